#pragma once
// GoTrue's MFA factor_type "webauthn" (auth-js's mfa.webauthn): a second
// factor whose credential, once registered, is a passkeys row carrying
// the factor's id — verified by the same relying party as a passkey, but
// never a passkey (no sign-in by it alone, not listed under /passkeys).
// The ceremony's challenge is kept on the factor's challenge (POST
// /factors/{id}/challenge) or, with mfa_sign_in = challenge, on the
// sign-in challenge; either is single-use.
#include <boost/json.hpp>
#include <pqxx/pqxx>

#include <optional>
#include <string>

#include "authd/api/json_body.h"
#include "authd/flows/auth_api.h"
#include "authd/stores/factor_store.h"

namespace orbitnest::authd {

inline constexpr const char* kWebAuthnFactorMethod = "mfa/webauthn";

// What a ceremony's answer carries: its challenge, and the "webauthn"
// member of the JSON answer ({type, credential_options: {publicKey}}).
struct FactorCeremony {
  std::string challenge;
  boost::json::object webauthn;
};

// Refuses a `webauthn: {rpId, rpOrigins}` from the client that is not the
// realm's relying party (400 webauthn_rp_mismatch): the realm's settings
// decide, and a client that believes otherwise learns it here, not from a
// browser error.
void check_client_relying_party(const RealmCall& c, const JsonBody& body);

// POST /factors/{id}/challenge of a webauthn factor: creation options
// while it is unverified, request options for its credential after.
FactorCeremony begin_factor_ceremony(pqxx::transaction_base& tx, const RealmCall& c, const UserRecord& user,
                                     const FactorRow& factor);

// POST /factors/{id}/verify's `webauthn` against the challenge's ceremony:
// registers the credential of an unverified factor (which becomes
// verified) or checks an assertion by a verified one's. Throws ApiError.
void finish_factor_ceremony(pqxx::transaction_base& tx, const RealmCall& c, const std::string& user_id,
                            const FactorRow& factor, const std::string& challenge, const JsonBody& body);

// mfa_sign_in = challenge: request options for the user's verified
// webauthn factors; nullopt when they have none.
std::optional<FactorCeremony> begin_sign_in_ceremony(pqxx::transaction_base& tx, const RealmCall& c,
                                                     const std::string& user_id);

// POST /mfa/verify with `webauthn`: the factor whose credential answered
// (`only_factor`, when given, must be it). Throws ApiError.
FactorRow finish_sign_in_ceremony(pqxx::transaction_base& tx, const RealmCall& c, const std::string& user_id,
                                  const std::string& challenge, const JsonBody& body,
                                  const std::optional<std::string>& only_factor);

}  // namespace orbitnest::authd
