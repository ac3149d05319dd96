#include "authd/mfa/recovery_codes.h"

#include <botan/system_rng.h>

#include <array>
#include <optional>

#include "authd/stores/recovery_code_store.h"

namespace orbitnest::authd {
namespace {

std::string mac_input(const Realm& realm, const std::string& user_id, const std::string& code) {
  return realm.limit_scope() + '\0' + user_id + '\0' + code;
}

}  // namespace

std::vector<std::string> issue_recovery_codes(KeydLink& keyd, pqxx::transaction_base& tx, const Realm& realm,
                                              const std::string& user_id) {
  std::vector<std::string> shown;
  std::vector<StoredRecoveryCode> stored;
  for (int i = 0; i < kRecoveryCodeCount; ++i) {
    std::array<std::uint8_t, kRecoveryCodeChars> random{};
    Botan::system_rng().randomize(random.data(), random.size());
    std::string code;
    for (const std::uint8_t b : random) {
      code += kRecoveryCodeAlphabet[b % kRecoveryCodeAlphabet.size()];  // 256 is a multiple of 32: no bias
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
  const std::optional<std::string> plain = normalized_recovery_code(code);
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
