#include "authd/webauthn/client_data.h"

#include <boost/json.hpp>

#include "authd/webauthn/webauthn_error.h"

namespace orbitnest::authd::webauthn {
namespace {

constexpr const char* kMalformed = "webauthn_malformed";
constexpr std::size_t kMaxClientData = 4096;

std::string member(const boost::json::object& o, std::string_view key) {
  const boost::json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) {
    throw WebAuthnError(kMalformed, "clientDataJSON has no string " + std::string(key));
  }
  return std::string(v->as_string());
}

}  // namespace

ClientData parse_client_data(std::string_view raw) {
  if (raw.size() > kMaxClientData) {
    throw WebAuthnError(kMalformed, "clientDataJSON is longer than 4096 bytes");
  }
  std::string_view text = raw;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") {
    text.remove_prefix(3);
  }
  boost::json::error_code ec;
  boost::json::parse_options options;
  options.max_depth = 8;
  const boost::json::value v = boost::json::parse(text, ec, {}, options);  // rejects invalid UTF-8
  if (ec || !v.is_object()) {
    throw WebAuthnError(kMalformed, "clientDataJSON is not a JSON object");
  }
  const boost::json::object& o = v.as_object();
  ClientData cd;
  cd.raw = std::string(raw);
  cd.type = member(o, "type");
  cd.challenge = member(o, "challenge");
  cd.origin = member(o, "origin");
  if (const boost::json::value* cross = o.if_contains("crossOrigin")) {
    if (!cross->is_bool() && !cross->is_null()) {
      throw WebAuthnError(kMalformed, "clientDataJSON crossOrigin is not a boolean");
    }
    cd.cross_origin = cross->is_bool() && cross->as_bool();
  }
  cd.has_top_origin = o.contains("topOrigin");
  return cd;
}

}  // namespace orbitnest::authd::webauthn
