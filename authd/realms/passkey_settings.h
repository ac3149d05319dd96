#pragma once
// A realm's passkey (WebAuthn) relying party: which rp id and origins its
// ceremonies belong to, what it demands of authenticators, and the mobile
// apps allowed to act for it. A project's live in its settings under
// "passkey"; the admins' in authd.yaml's admin.passkey.
#include <boost/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace orbitnest::authd {

struct PasskeyAndroidApp {
  std::string package_name;
  std::vector<std::string> sha256_cert_fingerprints;  // "AB:CD:..." (as assetlinks.json writes them)
};

struct PasskeySettings {
  bool enabled = true;
  std::string rp_id;    // empty: the host of site_url
  std::string rp_name;  // empty: the project's name
  // Exact origins whose ceremonies count (https://app.example.com,
  // android:apk-key-hash:...). Empty: the origin of site_url. The Android
  // apps' signing certificates add theirs.
  std::vector<std::string> origins;
  std::string user_verification = "required";  // required | preferred | discouraged
  std::string resident_key = "required";       // required | preferred | discouraged
  // none | indirect: any attestation, verified where this server can;
  // direct: asked for, and it must chain to trust_anchors_pem.
  std::string attestation = "none";
  std::vector<std::string> trust_anchors_pem;
  std::int64_t attestation_validation_time = 0;  // unix seconds; 0 = now
  bool allow_sign_count_regression = false;      // false: a counter that goes back is refused
  std::vector<PasskeyAndroidApp> android_apps;   // assetlinks.json and apk-key-hash origins
  std::vector<std::string> apple_app_ids;        // "TEAMID.bundle.id", for apple-app-site-association

  // Throws std::invalid_argument naming the key.
  static PasskeySettings from_json(const boost::json::value& v);
  boost::json::object to_json() const;

  // The origins of the Android apps' certificates:
  // android:apk-key-hash:<base64url of the SHA-256 fingerprint>.
  std::vector<std::string> android_origins() const;
};

}  // namespace orbitnest::authd
