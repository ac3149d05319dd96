#include "authd/tokens/principal.h"

namespace orbitnest::authd {

std::string SignedIn::aal() const {
  const boost::json::value* aal = token.claims.if_contains("aal");
  const bool token_aal2 = aal != nullptr && aal->is_string() && aal->as_string() == "aal2";
  return token_aal2 && session_aal == "aal2" ? "aal2" : "aal1";
}

bool below_required_aal(const Realm& realm, const UserRecord& user, std::string_view aal) {
  return aal != "aal2" && user.has_verified_factor() && realm.settings.mfa_sign_in == kMfaSignInChallenge;
}

}  // namespace orbitnest::authd
