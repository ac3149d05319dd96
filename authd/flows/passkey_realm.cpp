#include "authd/flows/passkey_realm.h"

#include "authd/security/random.h"
#include "authd/stores/webauthn_challenge_store.h"
#include "authd/webauthn/aaguid_names.h"
#include "authd/webauthn/webauthn_base64.h"

namespace orbitnest::authd {
namespace {

// "https://host:port/path" -> "https://host:port"
std::string origin_of(const std::string& url) {
  const std::size_t scheme = url.find("://");
  if (scheme == std::string::npos) {
    return url;
  }
  return url.substr(0, url.find('/', scheme + 3));
}

std::string host_of(const std::string& url) {
  std::string authority = origin_of(url);
  authority = authority.substr(authority.find("://") + 3);
  if (!authority.empty() && authority.front() == '[') {
    return authority.substr(0, authority.find(']') + 1);
  }
  return authority.substr(0, authority.find(':'));
}

std::string user_name_of(const UserRecord& user) {
  return !user.email.empty() ? user.email : !user.phone.empty() ? "+" + user.phone : user.id;
}

std::string display_name_of(const UserRecord& user) {
  for (const char* key : {"full_name", "name"}) {
    if (const boost::json::value* v = user.user_metadata.if_contains(key); v != nullptr && v->is_string()) {
      return std::string(v->as_string()).substr(0, 64);
    }
  }
  return user_name_of(user);
}

}  // namespace

std::string passkey_rp_id(const Realm& realm) {
  const PasskeySettings& p = realm.settings.passkey;
  return !p.rp_id.empty() ? p.rp_id : host_of(realm.settings.site_url);
}

std::string passkey_rp_name(const RealmCall& c) {
  const PasskeySettings& p = c.realm.settings.passkey;
  if (!p.rp_name.empty()) {
    return p.rp_name;
  }
  return c.realm.kind == RealmKind::admin ? "OrbitNest" : c.project().name;
}

webauthn::RelyingParty passkey_relying_party(const Realm& realm) {
  const PasskeySettings& p = realm.settings.passkey;
  webauthn::RelyingParty rp;
  rp.rp_id = passkey_rp_id(realm);
  rp.origins = p.origins.empty() ? std::vector<std::string>{origin_of(realm.settings.site_url)} : p.origins;
  for (std::string& android : p.android_origins()) {
    rp.origins.push_back(std::move(android));
  }
  rp.require_uv = p.user_verification == "required";
  rp.attestation = p.attestation;
  rp.trust_anchors_pem = p.trust_anchors_pem;
  rp.attestation_time = p.attestation_validation_time == 0
                            ? std::chrono::system_clock::now()
                            : std::chrono::system_clock::from_time_t(static_cast<std::time_t>(p.attestation_validation_time));
  rp.allow_sign_count_regression = p.allow_sign_count_regression;
  return rp;
}

std::string user_handle_of(const std::string& user_id) {
  std::string bytes;
  for (std::size_t i = 0; i + 1 < user_id.size(); ++i) {
    if (user_id[i] == '-') {
      continue;
    }
    bytes.push_back(static_cast<char>(std::stoi(user_id.substr(i, 2), nullptr, 16)));
    ++i;
  }
  return bytes;
}

std::optional<std::string> authenticator_name(const std::string& aaguid) {
  return webauthn::authenticator_name(aaguid);
}

boost::json::object passkey_json(const PasskeyRow& row) {
  const std::optional<std::string> name = authenticator_name(row.aaguid);
  return boost::json::object{
      {"id", row.id},
      {"friendly_name", row.friendly_name},
      {"credential_id", webauthn::encode_base64url(row.credential_id)},
      {"created_at", row.created_at},
      {"last_used_at", row.last_used_at.empty() ? boost::json::value(nullptr) : boost::json::value(row.last_used_at)},
      {"aaguid", row.aaguid.size() == 16 ? boost::json::value(webauthn::aaguid_text(row.aaguid)) : nullptr},
      {"authenticator_name", name ? boost::json::value(*name) : nullptr},
      {"backup_eligible", row.backup_eligible},
      {"backed_up", row.backed_up},
      {"user_verified", row.user_verified},
      {"transports", boost::json::value_from(row.transports)},
      {"attestation_format", row.attestation_format},
      // Verified means chained to the realm's trust anchors; a statement's
      // signature alone proves nothing about the maker (self-signed, or a
      // software key), nor does the AAGUID it names.
      {"attestation_verified", row.attestation_trusted},
      {"attestation_type", row.attestation_type},
  };
}

boost::json::array credential_descriptors(const std::vector<PasskeyRow>& rows) {
  boost::json::array out;
  for (const PasskeyRow& p : rows) {
    boost::json::object d{{"id", webauthn::encode_base64url(p.credential_id)}, {"type", "public-key"}};
    if (!p.transports.empty()) {
      d["transports"] = boost::json::value_from(p.transports);
    }
    out.push_back(std::move(d));
  }
  return out;
}

boost::json::object creation_options(const RealmCall& c, const UserRecord& user, const std::string& challenge,
                                     const std::vector<PasskeyRow>& exclude, const CeremonyPolicy& policy) {
  return boost::json::object{
      {"challenge", challenge},
      {"rp", boost::json::object{{"id", passkey_rp_id(c.realm)}, {"name", passkey_rp_name(c)}}},
      {"user", boost::json::object{{"id", webauthn::encode_base64url(user_handle_of(user.id))},
                                   {"name", user_name_of(user)},
                                   {"displayName", display_name_of(user)}}},
      {"pubKeyCredParams", boost::json::array{boost::json::object{{"alg", -8}, {"type", "public-key"}},
                                              boost::json::object{{"alg", -7}, {"type", "public-key"}},
                                              boost::json::object{{"alg", -257}, {"type", "public-key"}}}},
      {"timeout", kWebAuthnChallengeSeconds * 1000},
      {"attestation", c.realm.settings.passkey.attestation},
      {"excludeCredentials", credential_descriptors(exclude)},
      {"authenticatorSelection", boost::json::object{{"residentKey", policy.resident_key},
                                                     {"requireResidentKey", policy.resident_key == "required"},
                                                     {"userVerification", policy.user_verification}}},
      {"extensions", boost::json::object{{"credProps", true}}},
      {"hints", boost::json::array{}}};
}

boost::json::object request_options(const RealmCall& c, const std::string& challenge, boost::json::array allow,
                                    const std::string& user_verification) {
  return boost::json::object{{"challenge", challenge},
                             {"timeout", kWebAuthnChallengeSeconds * 1000},
                             {"rpId", passkey_rp_id(c.realm)},
                             {"allowCredentials", std::move(allow)},
                             {"userVerification", user_verification}};
}

PasskeyRow credential_row(const webauthn::NewCredential& credential, const std::string& user_id,
                          const std::string& friendly_name) {
  PasskeyRow row;
  row.id = uuid_v4();
  row.user_id = user_id;
  row.credential_id = credential.credential_id;
  row.public_key_cose = credential.public_key_cose;
  row.alg = credential.alg;
  row.sign_count = credential.sign_count;
  row.user_handle = user_handle_of(user_id);
  row.aaguid = credential.aaguid;
  row.friendly_name = friendly_name;
  row.transports = credential.transports;
  row.backup_eligible = credential.backup_eligible;
  row.backed_up = credential.backed_up;
  row.user_verified = credential.user_verified;
  row.attestation_format = credential.attestation_format;
  row.attestation_type = credential.attestation_type;
  row.attestation_trusted = credential.attestation_trusted;
  return row;
}

webauthn::VerifiedAssertion accept_assertion(pqxx::transaction_base& tx, const Realm& realm,
                                             const webauthn::RelyingParty& rp,
                                             const webauthn::AssertionResponse& response, std::string_view challenge,
                                             const PasskeyRow& credential) {
  const webauthn::VerifiedAssertion verified = refusing([&] {
    return webauthn::verify_assertion(
        rp, response, challenge,
        webauthn::StoredCredential{credential.public_key_cose, credential.sign_count, credential.backup_eligible});
  });
  PasskeyStore(realm).record_use(tx, credential.id, verified.sign_count, verified.backed_up);
  return verified;
}

}  // namespace orbitnest::authd
