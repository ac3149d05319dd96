#include "authd/realms/passkey_settings.h"

#include <algorithm>
#include <stdexcept>

#include "keyd/keyring/base64url.h"

namespace orbitnest::authd {
namespace {

[[noreturn]] void bad(const std::string& key, const std::string& what) {
  throw std::invalid_argument("passkey." + key + " " + what);
}

std::string text(const boost::json::object& o, const char* key, std::string fallback) {
  const boost::json::value* v = o.if_contains(key);
  if (v == nullptr) {
    return fallback;
  }
  if (!v->is_string() || v->as_string().size() > 2048) {
    bad(key, "must be a string");
  }
  return std::string(v->as_string());
}

std::string choice(const boost::json::object& o, const char* key, std::string fallback,
                   std::initializer_list<const char*> allowed) {
  std::string value = text(o, key, std::move(fallback));
  if (std::none_of(allowed.begin(), allowed.end(), [&](const char* a) { return value == a; })) {
    bad(key, "is not one of the allowed values ('" + value + "')");
  }
  return value;
}

std::vector<std::string> texts(const boost::json::object& o, const char* key, std::size_t max_length) {
  std::vector<std::string> out;
  const boost::json::value* v = o.if_contains(key);
  if (v == nullptr) {
    return out;
  }
  if (!v->is_array() || v->as_array().size() > 64) {
    bad(key, "must be an array of at most 64 strings");
  }
  for (const boost::json::value& item : v->as_array()) {
    if (!item.is_string() || item.as_string().empty() || item.as_string().size() > max_length) {
      bad(key, "must be an array of non-empty strings");
    }
    out.emplace_back(item.as_string());
  }
  return out;
}

// An origin the browser writes: scheme://host[:port], no path; or an
// Android app's android:apk-key-hash:<base64url>.
void check_origin(const std::string& origin) {
  if (origin.rfind("android:apk-key-hash:", 0) == 0) {
    if (!keyd::base64url_decode(origin.substr(21))) {
      bad("origins", "holds an android:apk-key-hash origin that is not base64url");
    }
    return;
  }
  const std::size_t scheme = origin.find("://");
  if ((origin.rfind("https://", 0) != 0 && origin.rfind("http://", 0) != 0) ||
      origin.find('/', scheme + 3) != std::string::npos || origin.size() <= scheme + 3) {
    bad("origins", "holds '" + origin + "', which is not an origin (https://host[:port])");
  }
}

// A fingerprint as assetlinks.json writes it: 32 hex bytes, colon-separated.
std::string fingerprint_bytes(const std::string& fp) {
  std::string bytes;
  for (std::size_t i = 0; i < fp.size(); i += 3) {
    const std::string pair = fp.substr(i, 2);
    if (pair.size() != 2 || !std::isxdigit(static_cast<unsigned char>(pair[0])) ||
        !std::isxdigit(static_cast<unsigned char>(pair[1])) || (i + 2 < fp.size() && fp[i + 2] != ':')) {
      bad("android_apps", "holds a fingerprint that is not AB:CD:... hex");
    }
    bytes.push_back(static_cast<char>(std::stoi(pair, nullptr, 16)));
  }
  if (bytes.size() != 32) {
    bad("android_apps", "holds a fingerprint that is not a SHA-256 (32 bytes)");
  }
  return bytes;
}

}  // namespace

PasskeySettings PasskeySettings::from_json(const boost::json::value& v) {
  if (!v.is_object()) {
    throw std::invalid_argument("passkey must be an object");
  }
  const boost::json::object& o = v.as_object();
  static const char* const kKnown[] = {"enabled", "rp_id", "rp_name", "origins", "user_verification", "resident_key",
                                       "attestation", "trust_anchors_pem", "attestation_validation_time",
                                       "allow_sign_count_regression", "android_apps", "apple_app_ids"};
  for (const auto& kv : o) {
    if (std::none_of(std::begin(kKnown), std::end(kKnown), [&](const char* k) { return kv.key() == k; })) {
      throw std::invalid_argument("unknown setting passkey." + std::string(kv.key()));
    }
  }
  PasskeySettings s;
  if (const boost::json::value* e = o.if_contains("enabled")) {
    if (!e->is_bool()) bad("enabled", "must be true or false");
    s.enabled = e->as_bool();
  }
  s.rp_id = text(o, "rp_id", "");
  if (!s.rp_id.empty() && (s.rp_id.size() > 253 || !std::all_of(s.rp_id.begin(), s.rp_id.end(), [](unsigned char c) {
                             return std::islower(c) || std::isdigit(c) || c == '.' || c == '-';
                           }))) {
    bad("rp_id", "must be a lower-case domain name (the page's host or a registrable suffix of it)");
  }
  s.rp_name = text(o, "rp_name", "");
  s.origins = texts(o, "origins", 512);
  for (const std::string& origin : s.origins) {
    check_origin(origin);
  }
  s.user_verification = choice(o, "user_verification", s.user_verification, {"required", "preferred", "discouraged"});
  s.resident_key = choice(o, "resident_key", s.resident_key, {"required", "preferred", "discouraged"});
  s.attestation = choice(o, "attestation", s.attestation, {"none", "indirect", "direct"});
  s.trust_anchors_pem = texts(o, "trust_anchors_pem", 64 * 1024);
  if (s.attestation == "direct" && s.trust_anchors_pem.empty()) {
    bad("attestation", "direct needs trust_anchors_pem (the roots attestation chains must reach)");
  }
  if (const boost::json::value* t = o.if_contains("attestation_validation_time")) {
    if (!t->is_int64() || t->as_int64() < 0) bad("attestation_validation_time", "must be unix seconds (0: now)");
    s.attestation_validation_time = t->as_int64();
  }
  if (const boost::json::value* r = o.if_contains("allow_sign_count_regression")) {
    if (!r->is_bool()) bad("allow_sign_count_regression", "must be true or false");
    s.allow_sign_count_regression = r->as_bool();
  }
  if (const boost::json::value* apps = o.if_contains("android_apps")) {
    if (!apps->is_array() || apps->as_array().size() > 32) bad("android_apps", "must be an array of apps");
    for (const boost::json::value& a : apps->as_array()) {
      if (!a.is_object()) bad("android_apps", "must be an array of {package_name, sha256_cert_fingerprints}");
      PasskeyAndroidApp app;
      app.package_name = text(a.as_object(), "package_name", "");
      app.sha256_cert_fingerprints = texts(a.as_object(), "sha256_cert_fingerprints", 95);
      if (app.package_name.empty() || app.sha256_cert_fingerprints.empty()) {
        bad("android_apps", "entries need package_name and sha256_cert_fingerprints");
      }
      for (const std::string& fp : app.sha256_cert_fingerprints) {
        fingerprint_bytes(fp);
      }
      s.android_apps.push_back(std::move(app));
    }
  }
  s.apple_app_ids = texts(o, "apple_app_ids", 256);
  return s;
}

boost::json::object PasskeySettings::to_json() const {
  boost::json::array apps;
  for (const PasskeyAndroidApp& a : android_apps) {
    apps.push_back(boost::json::object{{"package_name", a.package_name},
                                       {"sha256_cert_fingerprints", boost::json::value_from(a.sha256_cert_fingerprints)}});
  }
  return boost::json::object{{"enabled", enabled},
                             {"rp_id", rp_id},
                             {"rp_name", rp_name},
                             {"origins", boost::json::value_from(origins)},
                             {"user_verification", user_verification},
                             {"resident_key", resident_key},
                             {"attestation", attestation},
                             {"trust_anchors_pem", boost::json::value_from(trust_anchors_pem)},
                             {"attestation_validation_time", attestation_validation_time},
                             {"allow_sign_count_regression", allow_sign_count_regression},
                             {"android_apps", apps},
                             {"apple_app_ids", boost::json::value_from(apple_app_ids)}};
}

std::vector<std::string> PasskeySettings::android_origins() const {
  std::vector<std::string> out;
  for (const PasskeyAndroidApp& app : android_apps) {
    for (const std::string& fp : app.sha256_cert_fingerprints) {
      out.push_back("android:apk-key-hash:" + keyd::base64url_encode(fingerprint_bytes(fp)));
    }
  }
  return out;
}

}  // namespace orbitnest::authd
