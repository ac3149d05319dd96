#pragma once
// An error answered to an API client: HTTP status, GoTrue's stable error
// code and a message a developer understands. Thrown by flows, rendered by
// render_error() in the shape the client asked for.
#include <stdexcept>
#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "authd/http/http_types.h"

namespace orbitnest::authd {

class ApiError final : public std::runtime_error {
 public:
  ApiError(int status, std::string code, const std::string& message)
      : std::runtime_error(message), m_status(status), m_code(std::move(code)) {}
  int status() const { return m_status; }
  const std::string& code() const { return m_code; }
  // Seconds for a Retry-After header (429, 503), 0 for none.
  int retry_after = 0;
  // Members added to the error body (e.g. "weak_password": {"reasons": [...]}).
  boost::json::object extra;

 private:
  int m_status;
  std::string m_code;
};

// In the shape the caller parses (see ErrorShape): PostgREST's on /rest/v1
// paths; GoTrue's 2024 shape when X-Supabase-Api-Version >= 2024-01-01
// (what auth-js sends), its legacy shape otherwise.
Response render_error(const Request& req, int status, std::string_view code, std::string_view message,
                      int retry_after = 0, const boost::json::object& extra = {});
Response render_error(const Request& req, const ApiError& e);
// In the shape of `family` (a route's declared shape): postgrest, or
// GoTrue's (2024 when the request asks for it, else legacy).
Response render_error(const Request& req, ErrorShape family, const ApiError& e);
Response render_error_as(ErrorShape shape, int status, std::string_view code, std::string_view message,
                         int retry_after = 0, const boost::json::object& extra = {});
bool wants_2024_errors(const Request& req);
// The shape by path (/rest/v1: PostgREST's), or within a family.
ErrorShape error_shape_for(const Request& req);
ErrorShape error_shape_for(const Request& req, ErrorShape family);

}  // namespace orbitnest::authd
