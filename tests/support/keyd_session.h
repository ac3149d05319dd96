#pragma once
// Shortcuts for integration tests that talk to a running keyd.
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>

#include "keyd/client/keyd_connection.h"
#include "tests/support/daemon_fixture.h"

namespace orbitnest::test {

inline std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Claims for project `ref` as the fixture's keyd.yaml allows them.
inline std::string project_claims(const std::string& ref, std::int64_t lifetime = 600, const std::string& role = "authenticated") {
  const std::int64_t now = unix_now();
  return R"({"iss":"https://localhost/projects/)" + ref + R"(/auth/v1","sub":"9f2a1c7e-0000-4000-8000-000000000001",)"
         R"("aud":"authenticated","role":")" + role + R"(","iat":)" + std::to_string(now) + R"(,"exp":)" +
         std::to_string(now + lifetime) + R"(,"email":"user@example.com","user_metadata":{"name":"Jane Doe"}})";
}

// Starts keyd and waits until it serves; the connection has said hello.
inline keyd::KeydConnection connect_when_ready(const Appliance& a, std::chrono::seconds timeout = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    try {
      keyd::KeydConnection conn(a.keyd_socket(), std::chrono::milliseconds(5000));
      if (conn.call(keyd::Op::status, {}, {keyd::Status::not_ready}).status == keyd::Status::ok) {
        return conn;
      }
    } catch (const std::exception&) {
      if (std::chrono::steady_clock::now() > deadline) {
        throw;
      }
    }
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("keyd did not become ready");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace orbitnest::test
