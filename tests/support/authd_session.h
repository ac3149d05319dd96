#pragma once
// Shortcuts for integration tests of authd's project API.
#include <chrono>
#include <thread>
#include <string>
#include <vector>

#include "tests/support/daemon_fixture.h"

namespace orbitnest::test {

struct TestProject {
  std::string ref;
  std::string publishable_key;
  std::string secret_key;
};

// The first word after `label` in `text` ("" if absent).
inline std::string value_after(const std::string& text, const std::string& label) {
  std::size_t at = text.find(label);
  if (at == std::string::npos) {
    return "";
  }
  at = text.find_first_not_of(' ', at + label.size());
  return text.substr(at, text.find_first_of(" \n", at) - at);
}

// `authd project create` with the real CLI (keyd must be running).
inline TestProject create_project(const std::string& ref, bool debug,
                                  const std::string& authd_config) {
  std::vector<std::string> argv = {ORBITNEST_AUTHD_BIN, "--config", authd_config, "project", "create", ref};
  if (debug) {
    argv.push_back("--debug");
  }
  std::pair<int, std::string> out;
  for (int i = 0; i < 50; ++i) {
    out = run_command(argv);
    if (out.first == 0) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  TestProject p{ref, value_after(out.second, "publishable key:"), value_after(out.second, "secret key:")};
  if (!p.secret_key.empty()) {
    record_secret(p.secret_key);
  }
  return p;
}

inline HttpResult api(const Appliance& a, const std::string& method, const std::string& path,
                      const std::string& body = "", std::vector<std::string> headers = {}) {
  headers.push_back("Content-Type: application/json");
  return https_request(method, "https://localhost:" + std::to_string(a.port) + path, a.cert_file, body, headers);
}

}  // namespace orbitnest::test
