#include "tests/support/passkey_fixture.h"

#include <botan/base32.h>
#include <botan/otp.h>

#include <chrono>
#include <cstdio>

#include "keyd/keyring/base64url.h"
#include "tests/support/webauthn_bytes.h"

namespace orbitnest::test {

boost::json::object json(const HttpResult& r) {
  boost::json::error_code ec;
  boost::json::value v = boost::json::parse(r.body, ec);
  if (ec) return boost::json::object{};
  return v.is_object() ? v.as_object() : boost::json::object{{"array", v}};
}

std::string text(const boost::json::value& v) { return std::string(v.as_string()); }

std::string code_of(const HttpResult& r) {
  const boost::json::object o = json(r);
  return o.contains("error_code") ? text(o.at("error_code")) : "";
}

boost::json::object options_of(const HttpResult& r) {
  const boost::json::object o = json(r);
  EXPECT_TRUE(o.contains("challenge_id") && o.contains("expires_at")) << r.body;
  EXPECT_EQ(o.contains("options") ? text(o.at("options").at("challenge")) : "",
            o.contains("challenge_id") ? text(o.at("challenge_id")) : "x");
  return o.contains("options") ? o.at("options").as_object() : boost::json::object{};
}

boost::json::object claims_of(const std::string& jwt) {
  const std::size_t a = jwt.find('.');
  const std::size_t b = jwt.find('.', a + 1);
  return boost::json::parse(*keyd::base64url_decode(jwt.substr(a + 1, b - a - 1))).as_object();
}

std::string aal_of(const HttpResult& r) {
  const boost::json::object o = json(r);
  return o.contains("access_token") ? text(claims_of(text(o.at("access_token"))).at("aal")) : "";
}

bool amr_has(const boost::json::object& claims, const std::string& method) {
  for (const boost::json::value& m : claims.at("amr").as_array()) {
    if (m.as_object().at("method").as_string() == method) return true;
  }
  return false;
}

std::string totp_code(const std::string& base32_secret) {
  const Botan::secure_vector<std::uint8_t> seed = Botan::base32_decode(base32_secret);
  Botan::TOTP totp(seed.data(), seed.size(), "SHA-1", 6, 30);
  char code[8];
  std::snprintf(code, sizeof(code), "%06u", static_cast<unsigned>(totp.generate_totp(std::chrono::system_clock::now())));
  return code;
}

void PasskeyFixture::configure(const ProjectSettings& settings) {
  keyd = a.start_keyd();
  config = a.write_config("authd.yaml", a.authd_yaml());
  for (const auto& [ref, list] : settings) {
    projects[ref] = create_project(ref, true, config);
    ASSERT_FALSE(projects[ref].publishable_key.empty());
    for (const std::string& setting : list) {
      const auto set = run_command({ORBITNEST_AUTHD_BIN, "--config", config, "project", "settings", ref, setting});
      ASSERT_EQ(set.first, 0) << set.second;
    }
  }
}

void PasskeyFixture::start_authd() {
  authd = a.start_authd({}, config);
  ASSERT_EQ(a.wait_for_status("/auth/v1/health", 200).status, 200) << read_file(authd->log_file());
}

void PasskeyFixture::create_admin(const std::string& email) const {
  ASSERT_EQ(run_command({"/bin/sh", "-c", "printf '%s\\n' \"$PW\" | \"$1\" --config \"$2\" admin create \"$3\"", "sh",
                         ORBITNEST_AUTHD_BIN, config, email},
                        {{"PW", kPasskeyAdminPassword}})
                .first,
            0);
}

HttpResult PasskeyFixture::call(const std::string& ref, const std::string& method, const std::string& path,
                                const std::string& body, std::vector<std::string> headers) const {
  headers.push_back("apikey: " + projects.at(ref).publishable_key);
  return api(a, method, "/projects/" + ref + "/auth/v1" + path, body, headers);
}

HttpResult PasskeyFixture::admin(const std::string& method, const std::string& path, const std::string& body,
                                 std::vector<std::string> headers) const {
  headers.push_back("Content-Type: application/json");
  return https_request(method, admin_origin() + "/admin/v1" + path, a.cert_file, body, headers);
}

HttpResult PasskeyFixture::code_sign_in(const std::string& ref, const std::string& email) const {
  EXPECT_EQ(call(ref, "POST", "/otp", R"({"email": ")" + email + "\"}").status, 200);
  return call(ref, "POST", "/verify", R"({"type": "email", "email": ")" + email + R"(", "token": "1234"})");
}

boost::json::object PasskeyFixture::user_session(const std::string& ref, const std::string& email) const {
  const HttpResult v = code_sign_in(ref, email);
  EXPECT_EQ(v.status, 200) << v.body;
  return json(v);
}

boost::json::object PasskeyFixture::sign_up(const std::string& ref, const std::string& email,
                                            const std::string& password) const {
  const boost::json::object body{{"email", email}, {"password", password}};
  EXPECT_EQ(call(ref, "POST", "/signup", boost::json::serialize(body)).status, 200);
  const HttpResult v = call(ref, "POST", "/verify", R"({"type": "signup", "email": ")" + email + R"(", "token": "1234"})");
  EXPECT_EQ(v.status, 200) << v.body;
  return json(v);
}

HttpResult PasskeyFixture::password_sign_in(const std::string& ref, const std::string& email,
                                            const std::string& password) const {
  const boost::json::object body{{"email", email}, {"password", password}};
  return call(ref, "POST", "/token?grant_type=password", boost::json::serialize(body));
}

std::string PasskeyFixture::bearer(const boost::json::object& session) {
  return "Authorization: Bearer " + text(session.at("access_token"));
}

std::string PasskeyFixture::user_id(const boost::json::object& session) { return text(session.at("user").at("id")); }

std::string PasskeyFixture::handle_of(const boost::json::object& session) {
  std::string hex_id = user_id(session);
  std::erase(hex_id, '-');
  std::string bytes;
  for (std::size_t i = 0; i < hex_id.size(); i += 2) {
    bytes.push_back(static_cast<char>(std::stoi(hex_id.substr(i, 2), nullptr, 16)));
  }
  return bytes;
}

HttpResult PasskeyFixture::register_with(const std::string& ref, const boost::json::object& session,
                                         SoftAuthenticator& device, const std::string& origin,
                                         std::string* user_handle) const {
  const HttpResult options = call(ref, "POST", "/passkeys/registration/options", "{}", {bearer(session)});
  if (options.status != 200) return options;
  const boost::json::object o = options_of(options);
  if (user_handle != nullptr) *user_handle = unb64(text(o.at("user").at("id")));
  const boost::json::object body{{"challenge_id", json(options).at("challenge_id")},
                                 {"credential", device.registration(text(o.at("challenge")), origin)}};
  return call(ref, "POST", "/passkeys/registration/verify", boost::json::serialize(body), {bearer(session)});
}

std::string PasskeyFixture::sign_in_challenge(const std::string& ref, const std::string& body) const {
  const HttpResult options = call(ref, "POST", "/passkeys/authentication/options", body);
  EXPECT_EQ(options.status, 200) << options.body;
  return text(options_of(options).at("challenge"));
}

HttpResult PasskeyFixture::sign_in_with(const std::string& ref, const boost::json::object& assertion,
                                        std::vector<std::string> headers) const {
  return call(ref, "POST", "/passkeys/authentication/verify", boost::json::serialize(assertion), headers);
}

std::string PasskeyFixture::passkeys_of(const std::string& user) const {
  return a.db->scalar("SELECT count(*) FROM auth.passkeys WHERE user_id = '" + user + "'");
}

boost::json::object PasskeyFixture::enroll_totp(const std::string& ref, const boost::json::object& session) const {
  const HttpResult enrolled = call(ref, "POST", "/factors", R"({"factor_type": "totp"})", {bearer(session)});
  EXPECT_EQ(enrolled.status, 200) << enrolled.body;
  const std::string factor = text(json(enrolled).at("id"));
  const std::string secret = text(json(enrolled).at("totp").at("secret"));
  record_secret(secret);
  const HttpResult challenge = call(ref, "POST", "/factors/" + factor + "/challenge", "{}", {bearer(session)});
  EXPECT_EQ(challenge.status, 200) << challenge.body;
  const HttpResult verified =
      call(ref, "POST", "/factors/" + factor + "/verify",
           R"({"challenge_id": ")" + text(json(challenge).at("id")) + R"(", "code": ")" + totp_code(secret) + "\"}",
           {bearer(session)});
  EXPECT_EQ(verified.status, 200) << verified.body;
  EXPECT_EQ(aal_of(verified), "aal2");
  return json(verified);
}

}  // namespace orbitnest::test
