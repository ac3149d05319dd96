#pragma once
// One small function per operation: decode the typed request, ask the
// service behind it, encode the typed answer. Who may call and what must
// hold first is the op table's business (op_table.cpp), not theirs.
#include "keyd/server/op_table.h"

namespace orbitnest::keyd::handlers {

OpAnswer hello(const OpCall& call);
OpAnswer status(const OpCall& call);
OpAnswer sign_jwt(const OpCall& call);
OpAnswer jwks(const OpCall& call);
OpAnswer seal(const OpCall& call);
OpAnswer unseal(const OpCall& call);
OpAnswer totp_enroll(const OpCall& call);
OpAnswer totp_verify(const OpCall& call);
OpAnswer mac(const OpCall& call);
OpAnswer ensure_keyring(const OpCall& call);
OpAnswer rotate(const OpCall& call);
OpAnswer list_keys(const OpCall& call);
OpAnswer audit_head(const OpCall& call);
OpAnswer audit_pubkey(const OpCall& call);
OpAnswer rotate_by_admin(const OpCall& call);
OpAnswer stats(const OpCall& call);

}  // namespace orbitnest::keyd::handlers
