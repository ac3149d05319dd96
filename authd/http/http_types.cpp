#include "authd/http/http_types.h"

#include <boost/json.hpp>
#include <strings.h>

#include <algorithm>

namespace orbitnest::authd {

bool CaseInsensitiveLess::operator()(std::string_view a, std::string_view b) const {
  const int c = ::strncasecmp(a.data(), b.data(), std::min(a.size(), b.size()));
  return c < 0 || (c == 0 && a.size() < b.size());
}

Response json_error(int status, std::string_view error_code, std::string_view message, ErrorShape shape,
                    const boost::json::object& extra) {
  Response r;
  r.status = status;
  boost::json::object body;
  if (shape == ErrorShape::gotrue_2024) {
    body["code"] = error_code;
    body["message"] = message;
    r.headers.emplace_back("X-Supabase-Api-Version", "2024-01-01");
  } else if (shape == ErrorShape::postgrest) {
    body["code"] = error_code;
    body["details"] = nullptr;
    body["hint"] = nullptr;
    body["message"] = message;
  } else {
    body["code"] = status;
    body["error_code"] = error_code;
    body["msg"] = message;
  }
  for (const auto& kv : extra) {
    body[kv.key()] = kv.value();
  }
  r.body = boost::json::serialize(body);
  return r;
}

}  // namespace orbitnest::authd
