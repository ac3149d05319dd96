#include "keyd/server/op_table.h"

#include <array>

#include "keyd/server/op_handlers.h"

namespace orbitnest::keyd {
namespace {

using namespace op_flag;
constexpr std::uint8_t kServe = needs_hello | needs_ready;

// Append-only, like the Op numbers. Signing is audited on failure because a
// refused claim set is what a subverted authd would try; administrative ops
// (keys and keyrings change) always are.
constexpr std::array<OpRow, 16> kRows = {{
    {Op::hello, "hello", Peers::both, 0, handlers::hello},
    {Op::status, "status", Peers::both, needs_hello, handlers::status},
    {Op::sign_jwt, "sign_jwt", Peers::authd, kServe | audited, handlers::sign_jwt},
    {Op::jwks, "jwks", Peers::both, kServe, handlers::jwks},
    {Op::seal, "seal", Peers::authd, kServe, handlers::seal},
    {Op::unseal, "unseal", Peers::authd, kServe, handlers::unseal},
    {Op::totp_enroll, "totp_enroll", Peers::authd, kServe, handlers::totp_enroll},
    {Op::totp_verify, "totp_verify", Peers::authd, kServe, handlers::totp_verify},
    {Op::mac, "mac", Peers::authd, kServe, handlers::mac},
    {Op::ensure_keyring, "ensure_keyring", Peers::authd, kServe | administrative | audited, handlers::ensure_keyring},
    {Op::rotate, "rotate", Peers::operators, kServe | administrative | audited, handlers::rotate},
    {Op::list_keys, "list_keys", Peers::operators, kServe, handlers::list_keys},
    {Op::audit_head, "audit_head", Peers::operators, kServe, handlers::audit_head},
    {Op::audit_pubkey, "audit_pubkey", Peers::operators, kServe, handlers::audit_pubkey},
    // An admin's rotation through authd: authd's uid never gets `rotate`
    // itself; keyd verifies the admin's token (op_handlers.cpp).
    {Op::rotate_by_admin, "rotate_by_admin", Peers::authd, kServe | administrative | audited, handlers::rotate_by_admin},
    {Op::stats, "stats", Peers::both, kServe, handlers::stats},
}};

bool has_class(Peers peers, PeerClass c) {
  return (static_cast<unsigned>(peers) & (1U << static_cast<unsigned>(c))) != 0;
}

}  // namespace

bool OpRow::permits(const PeerRights& rights) const {
  return (rights.authd && has_class(peers, PeerClass::authd)) ||
         (rights.operator_ && has_class(peers, PeerClass::operator_));
}

std::span<const OpRow> op_table() { return kRows; }

const OpRow* find_op_row(std::uint16_t raw) {
  for (const OpRow& row : kRows) {
    if (static_cast<std::uint16_t>(row.op) == raw) {
      return &row;
    }
  }
  return nullptr;
}

}  // namespace orbitnest::keyd
