#pragma once
// A realm as a WebAuthn relying party (its passkey settings with their
// defaults filled in), and a stored passkey as the API shows it.
#include <boost/json.hpp>

#include <optional>
#include <string>
#include <vector>

#include "authd/api/api_error.h"
#include "authd/flows/auth_api.h"
#include "authd/stores/passkey_store.h"
#include "authd/webauthn/relying_party.h"
#include "authd/webauthn/webauthn_error.h"

namespace orbitnest::authd {

// rp_id, else the host of site_url.
std::string passkey_rp_id(const Realm& realm);
// rp_name, else the project's name (or "OrbitNest" for the admins).
std::string passkey_rp_name(const RealmCall& c);
// origins (else the origin of site_url) and the Android apps' origins.
webauthn::RelyingParty passkey_relying_party(const Realm& realm);
// The user handle a realm's credentials are registered under: the user
// id's 16 bytes (opaque to the authenticator, no personal data).
std::string user_handle_of(const std::string& user_id);
std::optional<std::string> authenticator_name(const std::string& aaguid);
boost::json::object passkey_json(const PasskeyRow& row);

// Ceremony options in the W3C JSON forms (PublicKeyCredentialCreation /
// RequestOptionsJSON), for passkeys and webauthn factors alike.
struct CeremonyPolicy {
  std::string resident_key;       // "required" | "preferred" | "discouraged"
  std::string user_verification;  // the same words
};
boost::json::object creation_options(const RealmCall& c, const UserRecord& user, const std::string& challenge,
                                     const std::vector<PasskeyRow>& exclude, const CeremonyPolicy& policy);
boost::json::object request_options(const RealmCall& c, const std::string& challenge, boost::json::array allow,
                                    const std::string& user_verification);
boost::json::array credential_descriptors(const std::vector<PasskeyRow>& rows);

// The row a verified registration becomes (a passkey; the caller sets
// factor_id for a webauthn factor's credential).
PasskeyRow credential_row(const webauthn::NewCredential& credential, const std::string& user_id,
                          const std::string& friendly_name);
// Verifies an assertion by a stored credential, then records its use (the
// new counter, the backup state) in `tx`. Throws ApiError 400.
webauthn::VerifiedAssertion accept_assertion(pqxx::transaction_base& tx, const Realm& realm,
                                             const webauthn::RelyingParty& rp,
                                             const webauthn::AssertionResponse& response, std::string_view challenge,
                                             const PasskeyRow& credential);

// The relying party's refusal as the API's: 400 with its stable code.
template <class F>
auto refusing(F&& verify) {
  try {
    return verify();
  } catch (const webauthn::WebAuthnError& e) {
    throw ApiError(400, e.code(), e.what());
  }
}

}  // namespace orbitnest::authd
