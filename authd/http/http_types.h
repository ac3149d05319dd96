#pragma once
// Plain request/response values that handlers see. Handlers never include
// Beast: the HTTP layer converts at its edge (http_server.cpp).
#include <boost/json.hpp>

#include <chrono>

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace orbitnest::authd {

struct CaseInsensitiveLess {
  bool operator()(std::string_view a, std::string_view b) const;
};

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string path;    // without the query string
  std::string query;   // after '?', undecoded
  std::map<std::string, std::string, CaseInsensitiveLess> headers;
  std::string body;
  std::string request_id;
  std::string remote_address;
  // What per-client limits count by: the IPv4 address, or the IPv6 /64
  // (ConnectionLimiter::network_name); empty outside the HTTP server.
  std::string remote_network;
  // Set by the HTTP server: the matched route's name ("" for none) and
  // when the request was read whole (metrics time requests from there).
  std::string route_name;
  std::chrono::steady_clock::time_point received_at{};
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string content_type = "application/json";
};

// The error bodies clients parse: GoTrue's legacy
// {"code":<status>,"error_code":..,"msg":..}; GoTrue's 2024 shape
// {"code":"<error_code>","message":..} plus the version header, for
// clients that send X-Supabase-Api-Version: 2024-01-01; and PostgREST's
// {"code":..,"details":null,"hint":null,"message":..} for /rest/v1 calls.
enum class ErrorShape { gotrue_legacy, gotrue_2024, postgrest };

// A JSON error in one of those shapes; `extra` members are added to the body.
Response json_error(int status, std::string_view error_code, std::string_view message,
                    ErrorShape shape = ErrorShape::gotrue_legacy, const boost::json::object& extra = {});

}  // namespace orbitnest::authd
