#pragma once
// A small HTTPS client (libcurl) that verifies the server against a given
// CA file, as a real client would.
#include <map>
#include <string>
#include <vector>

namespace orbitnest::test {

struct HttpResult {
  long status = 0;  // 0: no HTTP answer at all
  std::string body;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string error;                           // curl's error when status == 0
};

// `local_address`: the source address to connect from (e.g. 127.0.0.2,
// another client on loopback); the system's choice when empty.
HttpResult https_request(const std::string& method, const std::string& url, const std::string& ca_file,
                         const std::string& body = "", const std::vector<std::string>& headers = {},
                         const std::string& local_address = "");

}  // namespace orbitnest::test
