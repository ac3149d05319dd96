#pragma once
// Who is calling, as the route adapters establish it: an access token
// verified for one realm (its keyring, issuer and audience) and the user it
// names, read from that realm's tables with the session still alive.
// ProjectUser and AdminUser are distinct types: a route row declares which
// one its flow takes, so a handler for admins cannot be handed a project
// user (and the other way round) — the compiler holds the line, and the
// route tables' check refuses a row whose flow does not fit its access.
#include <string>
#include <string_view>

#include "authd/flows/user_record.h"
#include "authd/realms/realm.h"
#include "authd/tokens/access_token_verifier.h"

namespace orbitnest::authd {

// A verified caller of some realm; flows written once for every realm
// take this.
struct SignedIn {
  VerifiedToken token;
  UserRecord user;
  std::string session_aal = "aal1";  // as stored on the session now

  // "aal2" only when both the token says so and the session still is: a
  // factor removed (the session lowered) takes effect at once, not when the
  // token expires; a raised session needs a fresh token to act as aal2.
  std::string aal() const;
};

// The challenge sign-in mode's rule: a user with a verified factor holds
// nothing below aal2 in this realm (refreshes and requests alike).
bool below_required_aal(const Realm& realm, const UserRecord& user, std::string_view aal);

// A signed-in user of the project the request names.
struct ProjectUser final : SignedIn {
  explicit ProjectUser(SignedIn who) : SignedIn(std::move(who)) {}
};

// A signed-in admin (the admin keyring, issuer and audience).
struct AdminUser final : SignedIn {
  explicit AdminUser(SignedIn who) : SignedIn(std::move(who)) {}
};

}  // namespace orbitnest::authd
