#include "authd/mfa/recovery_codes.h"

#include <botan/system_rng.h>

#include <array>
#include <optional>

#include "authd/stores/recovery_code_store.h"

namespace orbitnest::authd {
namespace {

// 32 characters without 0/o, 1/l: 5 bits each, nothing to misread.
constexpr std::string_view kAlphabet = "abcdefghijkmnpqrstuvwxyz23456789";
constexpr std::size_t kCodeChars = 10;

std::optional<std::string> normalized(std::string_view code) {
  std::string out;
  for (const char ch : code) {
    if (ch == '-' || ch == ' ') {
      continue;
    }
    const char lower = (ch >= 'A' && ch <= 'Z') ? static_cast<char>(ch - 'A' + 'a') : ch;
    if (kAlphabet.find(lower) == std::string_view::npos || out.size() == kCodeChars) {
      return std::nullopt;
    }
    out += lower;
  }
  return out.size() == kCodeChars ? std::optional<std::string>(out) : std::nullopt;
}

std::string mac_input(const Realm& realm, const std::string& user_id, const std::string& code) {
  return realm.limit_scope() + '\0' + user_id + '\0' + code;
}

}  // namespace

bool looks_like_recovery_code(std::string_view code) { return normalized(code).has_value(); }

std::vector<std::string> issue_recovery_codes(KeydLink& keyd, pqxx::transaction_base& tx, const Realm& realm,
                                              const std::string& user_id) {
  std::vector<std::string> shown;
  std::vector<StoredRecoveryCode> stored;
  for (int i = 0; i < kRecoveryCodeCount; ++i) {
    std::array<std::uint8_t, kCodeChars> random{};
    Botan::system_rng().randomize(random.data(), random.size());
    std::string code;
    for (const std::uint8_t b : random) {
      code += kAlphabet[b % kAlphabet.size()];  // 256 is a multiple of 32: no bias
    }
    int version = 0;
    stored.push_back(StoredRecoveryCode{keyd.mac("recovery_code", mac_input(realm, user_id, code), 0, &version),
                                        version});
    shown.push_back(code.substr(0, 5) + "-" + code.substr(5));
  }
  RecoveryCodeStore(realm).replace(tx, user_id, stored);
  return shown;
}

bool spend_recovery_code(KeydLink& keyd, pqxx::transaction_base& tx, const Realm& realm, const std::string& user_id,
                         std::string_view code) {
  const std::optional<std::string> plain = normalized(code);
  if (!plain) {
    return false;
  }
  const RecoveryCodeStore codes(realm);
  for (const int version : codes.versions(tx, user_id)) {
    int used = 0;
    const std::string mac = keyd.mac("recovery_code", mac_input(realm, user_id, *plain), version, &used);
    if (codes.spend(tx, user_id, StoredRecoveryCode{mac, used})) {
      return true;
    }
  }
  return false;
}

}  // namespace orbitnest::authd
