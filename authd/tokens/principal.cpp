#include "authd/tokens/principal.h"

namespace orbitnest::authd {

std::string SignedIn::aal() const {
  const boost::json::value* aal = token.claims.if_contains("aal");
  const bool token_aal2 = aal != nullptr && aal->is_string() && aal->as_string() == "aal2";
  return token_aal2 && session_aal == "aal2" ? "aal2" : "aal1";
}

}  // namespace orbitnest::authd
