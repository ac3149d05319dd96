#include "authd/api/user_metadata.h"

#include <string_view>

#include "authd/api/api_error.h"

namespace orbitnest::authd {
namespace {

[[noreturn]] void refuse(const std::string& why) {
  throw ApiError(400, "validation_failed", "user_metadata (data) " + why);
}

bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

void check_value(const boost::json::value& v, int depth) {
  if (v.is_string()) {
    if (has_nul(v.as_string())) {
      refuse("may not contain the NUL character (\\u0000)");
    }
    return;
  }
  if (!v.is_object() && !v.is_array()) {
    return;
  }
  if (depth > kMaxUserMetadataDepth) {
    refuse("may nest objects and arrays at most " + std::to_string(kMaxUserMetadataDepth) + " deep");
  }
  if (v.is_array()) {
    for (const boost::json::value& e : v.as_array()) {
      check_value(e, depth + 1);
    }
    return;
  }
  for (const auto& kv : v.as_object()) {
    if (has_nul(kv.key())) {
      refuse("may not contain the NUL character (\\u0000)");
    }
    check_value(kv.value(), depth + 1);
  }
}

}  // namespace

void check_user_metadata(const boost::json::object& data) {
  check_value(data, 1);
  if (boost::json::serialize(data).size() > kMaxUserMetadataBytes) {
    refuse("is larger than " + std::to_string(kMaxUserMetadataBytes / 1024) + " KiB");
  }
}

}  // namespace orbitnest::authd
