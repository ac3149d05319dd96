// keydctl: the operator's CLI for keyd. Exit codes for scripts:
// 0 ok, 1 keyd answered "not ready", 2 keyd unreachable, 64 usage.
#include <chrono>
#include <iostream>
#include <string>

#include "keyd/client/keyd_connection.h"

namespace {

using namespace orbitnest::keyd;

int usage() {
  std::cerr << "usage: keydctl [--socket PATH] [--json] status\n";
  return 64;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace

int main(int argc, char** argv) {
  std::string socket_path = "/run/orbitnest/keyd.sock";
  bool json = false;
  std::string command;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--socket" && i + 1 < argc) {
      socket_path = argv[++i];
    } else if (a == "--json") {
      json = true;
    } else if (command.empty() && a[0] != '-') {
      command = a;
    } else {
      return usage();
    }
  }
  if (command != "status") {
    return usage();
  }
  try {
    KeydConnection conn(socket_path, std::chrono::milliseconds(3000));
    const Frame resp = conn.call(Op::status, {}, {Status::not_ready});
    FieldReader in(resp);
    const std::string detail(in.bytes());
    const std::string token(in.bytes());
    const bool ready = resp.status == Status::ok;
    if (json) {
      std::cout << "{\"ready\":" << (ready ? "true" : "false") << ",\"detail\":" << json_string(detail)
                << ",\"token\":" << json_string(token) << ",\"version\":" << json_string(conn.keyd_version())
                << "}\n";
    } else {
      std::cout << "keyd " << conn.keyd_version() << ": " << (ready ? "ready" : "NOT READY") << " (" << detail
                << "), token '" << token << "'\n";
    }
    return ready ? 0 : 1;
  } catch (const std::exception& e) {
    std::cerr << "keydctl: " << e.what() << "\n";
    return 2;
  }
}
