#include "authd/tokens/principal.h"

namespace orbitnest::authd {

std::string SignedIn::aal() const {
  const boost::json::value* aal = token.claims.if_contains("aal");
  return aal != nullptr && aal->is_string() && aal->as_string() == "aal2" ? "aal2" : "aal1";
}

}  // namespace orbitnest::authd
