#include "authd/api/json_body.h"

#include "authd/api/api_error.h"

namespace orbitnest::authd {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::string> percent_decode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%') {
      if (i + 2 >= s.size()) {
        return std::nullopt;
      }
      const int hi = hex_value(s[i + 1]);
      const int lo = hex_value(s[i + 2]);
      if (hi < 0 || lo < 0) {
        return std::nullopt;
      }
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

JsonBody JsonBody::parse(const Request& req) {
  if (req.body.empty()) {
    return JsonBody(boost::json::object{});
  }
  boost::json::error_code ec;
  boost::json::parse_options opts;
  opts.max_depth = 32;
  boost::json::value v = boost::json::parse(req.body, ec, {}, opts);
  if (ec) {
    throw ApiError(400, "bad_json", "Could not parse request body as JSON: " + ec.message());
  }
  if (!v.is_object()) {
    throw ApiError(400, "bad_json", "The request body must be a JSON object");
  }
  return JsonBody(std::move(v.as_object()));
}

const boost::json::value* JsonBody::find(std::string_view key) const {
  const boost::json::value* v = m_object.if_contains(key);
  return v == nullptr || v->is_null() ? nullptr : v;
}

std::optional<std::string> JsonBody::string(std::string_view key) const {
  const boost::json::value* v = find(key);
  if (v == nullptr) {
    return std::nullopt;
  }
  if (!v->is_string()) {
    throw ApiError(400, "validation_failed", std::string(key) + " must be a string");
  }
  return std::string(v->as_string());
}

std::string JsonBody::required_string(std::string_view key) const {
  std::optional<std::string> s = string(key);
  if (!s || s->empty()) {
    throw ApiError(400, "validation_failed", std::string(key) + " is required");
  }
  return *s;
}

std::optional<bool> JsonBody::boolean(std::string_view key) const {
  const boost::json::value* v = find(key);
  if (v == nullptr) {
    return std::nullopt;
  }
  if (!v->is_bool()) {
    throw ApiError(400, "validation_failed", std::string(key) + " must be true or false");
  }
  return v->as_bool();
}

std::optional<boost::json::object> JsonBody::object(std::string_view key) const {
  const boost::json::value* v = find(key);
  if (v == nullptr) {
    return std::nullopt;
  }
  if (!v->is_object()) {
    throw ApiError(400, "validation_failed", std::string(key) + " must be a JSON object");
  }
  return v->as_object();
}

std::optional<std::string> query_param(const Request& req, std::string_view name) {
  std::string_view q = req.query;
  while (!q.empty()) {
    const std::size_t amp = q.find('&');
    const std::string_view pair = q.substr(0, amp);
    const std::size_t eq = pair.find('=');
    const std::string_view key = pair.substr(0, eq);
    if (key == name) {
      const std::optional<std::string> value =
          percent_decode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
      if (!value) {
        throw ApiError(400, "validation_failed", "malformed query parameter " + std::string(name));
      }
      return value;
    }
    if (amp == std::string_view::npos) {
      break;
    }
    q.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

}  // namespace orbitnest::authd
