#pragma once
// One fixture for the passkey and WebAuthn-factor integration tests: real
// keyd, Postgres and authd over HTTPS, projects with their settings, and
// the calls every ceremony test makes (a signed-in user, registration and
// sign-in ceremonies with a SoftAuthenticator, TOTP and webauthn factors).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/authd_session.h"
#include "tests/support/soft_authenticator.h"

namespace orbitnest::test {

inline constexpr const char* kPasskeyOrigin = "https://app.example";
inline constexpr const char* kPasskeyAdminPassword = "correct horse battery staple";
// A project's passkey settings: rp localhost, the app's origin, UV required / preferred.
inline constexpr const char* kRequiredUv = R"({"rp_id": "localhost", "origins": ["https://app.example"]})";
inline constexpr const char* kPreferredUv =
    R"({"rp_id": "localhost", "origins": ["https://app.example"], "user_verification": "preferred"})";

// The body as an object ({} when it is not JSON; an array under "array").
boost::json::object json(const HttpResult& r);
std::string text(const boost::json::value& v);
std::string code_of(const HttpResult& r);
// A ceremony answer's options (auth-js's envelope {challenge_id, options, expires_at}).
boost::json::object options_of(const HttpResult& r);
boost::json::object claims_of(const std::string& jwt);
std::string aal_of(const HttpResult& r);
bool amr_has(const boost::json::object& claims, const std::string& method);
std::string totp_code(const std::string& base32_secret);

class PasskeyFixture : public ::testing::Test {
 protected:
  // Projects by ref, each with its `authd project settings` arguments.
  using ProjectSettings = std::vector<std::pair<std::string, std::vector<std::string>>>;
  void configure(const ProjectSettings& settings);
  void start_authd();
  void start(const ProjectSettings& settings) {
    configure(settings);
    start_authd();
  }
  void create_admin(const std::string& email) const;

  HttpResult call(const std::string& ref, const std::string& method, const std::string& path,
                  const std::string& body = "", std::vector<std::string> headers = {}) const;
  HttpResult admin(const std::string& method, const std::string& path, const std::string& body = "",
                   std::vector<std::string> headers = {}) const;
  std::string admin_origin() const { return "https://localhost:" + std::to_string(a.admin_port); }

  // A sign-in by mailed code (debug project: the code is 1234).
  HttpResult code_sign_in(const std::string& ref, const std::string& email) const;
  boost::json::object user_session(const std::string& ref, const std::string& email) const;
  // A user signed up with a password (debug project: the code is 1234),
  // and their later sign-ins with it (no mail: no send limit).
  boost::json::object sign_up(const std::string& ref, const std::string& email, const std::string& password) const;
  HttpResult password_sign_in(const std::string& ref, const std::string& email, const std::string& password) const;
  static std::string bearer(const boost::json::object& session);
  static std::string user_id(const boost::json::object& session);
  // The user handle authd registers credentials under: the user id's bytes.
  static std::string handle_of(const boost::json::object& session);

  // Options, then the authenticator's answer in auth-js's envelope
  // ({challenge_id, credential}), registered for `session`.
  HttpResult register_with(const std::string& ref, const boost::json::object& session, SoftAuthenticator& device,
                           const std::string& origin = kPasskeyOrigin, std::string* user_handle = nullptr) const;
  // A sign-in ceremony's challenge.
  std::string sign_in_challenge(const std::string& ref, const std::string& body = "{}") const;
  // The assertion posted as is (@simplewebauthn/browser's output).
  HttpResult sign_in_with(const std::string& ref, const boost::json::object& assertion,
                          std::vector<std::string> headers = {}) const;
  std::string passkeys_of(const std::string& user) const;

  // TOTP enrolled and verified; returns the aal2 session.
  boost::json::object enroll_totp(const std::string& ref, const boost::json::object& session) const;

  Appliance a;
  std::unique_ptr<ChildProcess> keyd;
  std::unique_ptr<ChildProcess> authd;
  std::string config;
  std::map<std::string, TestProject> projects;
};

}  // namespace orbitnest::test
