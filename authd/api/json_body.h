#pragma once
// The JSON body of an API request, read strictly where it matters and
// leniently where clients differ: unknown fields and nulls are ignored (as
// GoTrue does, so that auth-js's extra fields pass), but a field that is
// present with the wrong type is a 400 validation_failed naming it.
#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>

#include "authd/http/http_types.h"

namespace orbitnest::authd {

class JsonBody final {
 public:
  // Empty body → {}. Malformed JSON or a non-object → ApiError 400 bad_json.
  static JsonBody parse(const Request& req);

  std::optional<std::string> string(std::string_view key) const;
  std::string required_string(std::string_view key) const;
  std::optional<bool> boolean(std::string_view key) const;
  // A JSON object (e.g. user_metadata); nullopt when absent or null.
  std::optional<boost::json::object> object(std::string_view key) const;
  // Every member (for bodies whose keys are data, like RPC arguments).
  const boost::json::object& all() const { return m_object; }

 private:
  explicit JsonBody(boost::json::object o) : m_object(std::move(o)) {}
  const boost::json::value* find(std::string_view key) const;
  boost::json::object m_object;
};

// One query-string parameter, percent-decoded; nullopt if absent.
std::optional<std::string> query_param(const Request& req, std::string_view name);

}  // namespace orbitnest::authd
