// The files a mobile OS fetches before it lets an app use the relying
// party's passkeys: Android's Digital Asset Links (assetlinks.json, for
// Credential Manager) and Apple's apple-app-site-association (webcredentials,
// for ASAuthorization), both from the realm's passkey settings. They must
// be reachable at https://<rp_id>/.well-known/...: a proxy in front of
// authd maps them there (authd/API.md).
#include "authd/flows/auth_api.h"

namespace orbitnest::authd {

Response assetlinks(AuthServices&, const RealmCall& c) {
  boost::json::array statements;
  for (const PasskeyAndroidApp& app : c.realm.settings.passkey.android_apps) {
    statements.push_back(boost::json::object{
        {"relation", boost::json::array{"delegate_permission/common.handle_all_urls",
                                        "delegate_permission/common.get_login_creds"}},
        {"target", boost::json::object{{"namespace", "android_app"},
                                       {"package_name", app.package_name},
                                       {"sha256_cert_fingerprints", boost::json::value_from(app.sha256_cert_fingerprints)}}}});
  }
  return json_response(200, statements);
}

Response apple_app_site_association(AuthServices&, const RealmCall& c) {
  return json_response(200, boost::json::object{
                                {"webcredentials",
                                 boost::json::object{{"apps", boost::json::value_from(c.realm.settings.passkey.apple_app_ids)}}}});
}

}  // namespace orbitnest::authd
