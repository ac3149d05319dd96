#include "authd/api/api_error.h"

#include <boost/json.hpp>

namespace orbitnest::authd {

bool wants_2024_errors(const Request& req) {
  const auto it = req.headers.find("X-Supabase-Api-Version");
  // Dates compare as strings in ISO form.
  return it != req.headers.end() && it->second.size() == 10 && it->second >= "2024-01-01";
}

ErrorShape error_shape_for(const Request& req) {
  return error_shape_for(req, req.path.find("/rest/v1/") != std::string::npos ? ErrorShape::postgrest
                                                                             : ErrorShape::gotrue_legacy);
}

ErrorShape error_shape_for(const Request& req, ErrorShape family) {
  if (family == ErrorShape::postgrest) {
    return ErrorShape::postgrest;  // postgrest-js reads code and message
  }
  return wants_2024_errors(req) ? ErrorShape::gotrue_2024 : ErrorShape::gotrue_legacy;
}

Response render_error(const Request& req, int status, std::string_view code, std::string_view message,
                      int retry_after, const boost::json::object& extra) {
  return render_error_as(error_shape_for(req), status, code, message, retry_after, extra);
}

Response render_error_as(ErrorShape shape, int status, std::string_view code, std::string_view message,
                         int retry_after, const boost::json::object& extra) {
  Response r = json_error(status, code, message, shape, extra);
  r.headers.emplace_back("x-sb-error-code", std::string(code));
  if (retry_after > 0) {
    r.headers.emplace_back("Retry-After", std::to_string(retry_after));
  }
  return r;
}

Response render_error(const Request& req, const ApiError& e) {
  return render_error(req, e.status(), e.code(), e.what(), e.retry_after, e.extra);
}

Response render_error(const Request& req, ErrorShape family, const ApiError& e) {
  return render_error_as(error_shape_for(req, family), e.status(), e.code(), e.what(), e.retry_after, e.extra);
}

}  // namespace orbitnest::authd
