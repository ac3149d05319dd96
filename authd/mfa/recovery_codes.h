#pragma once
// MFA recovery codes: ten one-time codes shown once when a user's first
// factor is verified (and when they regenerate them), each usable instead
// of a TOTP code and then spent. Only keyd's MACs are stored (purpose
// "recovery_code", bound to the realm and the user), as OTP codes are.
#include <pqxx/pqxx>

#include <string>
#include <string_view>
#include <vector>

#include "authd/keyd/keyd_link.h"
#include "authd/mfa/recovery_code_format.h"
#include "authd/realms/realm.h"

namespace orbitnest::authd {

inline constexpr int kRecoveryCodeCount = 10;

// Ten fresh codes ("xxxxx-xxxxx", 50 random bits each, no look-alike
// characters), replacing the user's earlier set; returned in clear once.
std::vector<std::string> issue_recovery_codes(KeydLink& keyd, pqxx::transaction_base& tx, const Realm& realm,
                                              const std::string& user_id);
// Spends `code` if it is one of the user's unused codes (any case, with or
// without the dash and spaces).
bool spend_recovery_code(KeydLink& keyd, pqxx::transaction_base& tx, const Realm& realm, const std::string& user_id,
                         std::string_view code);

}  // namespace orbitnest::authd
