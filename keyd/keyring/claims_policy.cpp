#include "keyd/keyring/claims_policy.h"

#include <boost/json.hpp>

#include <algorithm>

namespace orbitnest::keyd {
namespace {

constexpr std::size_t kMaxClaimsBytes = 16 * 1024;

bool allowed(const std::vector<std::string>& list, std::string_view v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

std::int64_t integer_claim(const boost::json::object& c, const char* name) {
  const boost::json::value* v = c.if_contains(name);
  if (v == nullptr) {
    throw ClaimsRejected(std::string(name) + " is missing");
  }
  if (v->is_int64()) {
    return v->as_int64();
  }
  if (v->is_uint64() && v->as_uint64() <= static_cast<std::uint64_t>(INT64_MAX)) {
    return static_cast<std::int64_t>(v->as_uint64());
  }
  throw ClaimsRejected(std::string(name) + " must be an integer (seconds since the epoch)");
}

std::string_view string_claim(const boost::json::object& c, const char* name) {
  const boost::json::value* v = c.if_contains(name);
  if (v == nullptr || !v->is_string() || v->as_string().empty()) {
    throw ClaimsRejected(std::string(name) + " must be a non-empty string");
  }
  return v->as_string();
}

}  // namespace

std::string check_claims(const std::string& claims_json, const ClaimsPolicy& policy, std::int64_t now) {
  if (claims_json.size() > kMaxClaimsBytes) {
    throw ClaimsRejected("claims larger than 16 KiB");
  }
  boost::json::error_code ec;
  boost::json::parse_options opts;
  opts.max_depth = 16;
  const boost::json::value parsed = boost::json::parse(claims_json, ec, {}, opts);
  if (ec || !parsed.is_object()) {
    throw ClaimsRejected("claims must be one JSON object");
  }
  const boost::json::object& c = parsed.as_object();

  if (string_claim(c, "iss") != policy.issuer) {
    throw ClaimsRejected("iss is not this keyring's issuer");
  }
  (void)string_claim(c, "sub");
  const boost::json::value* aud = c.if_contains("aud");
  if (aud == nullptr) {
    throw ClaimsRejected("aud is missing");
  }
  if (aud->is_string()) {
    if (!allowed(policy.audiences, aud->as_string())) {
      throw ClaimsRejected("aud is not allowed for this keyring");
    }
  } else if (aud->is_array() && !aud->as_array().empty()) {
    for (const boost::json::value& a : aud->as_array()) {
      if (!a.is_string() || !allowed(policy.audiences, a.as_string())) {
        throw ClaimsRejected("aud is not allowed for this keyring");
      }
    }
  } else {
    throw ClaimsRejected("aud must be a string or a non-empty array of strings");
  }
  if (!allowed(policy.roles, string_claim(c, "role"))) {
    throw ClaimsRejected("role is not allowed for this keyring");
  }
  const std::int64_t iat = integer_claim(c, "iat");
  const std::int64_t exp = integer_claim(c, "exp");
  if (iat < now - policy.clock_skew_seconds || iat > now + policy.clock_skew_seconds) {
    throw ClaimsRejected("iat is not within the allowed clock skew of now");
  }
  if (exp <= now || exp <= iat) {
    throw ClaimsRejected("exp must be in the future and after iat");
  }
  if (exp - iat > policy.max_lifetime_seconds) {
    throw ClaimsRejected("lifetime (exp - iat) exceeds the maximum of " + std::to_string(policy.max_lifetime_seconds) +
                         " s");
  }
  if (c.contains("nbf") && integer_claim(c, "nbf") > now + policy.clock_skew_seconds) {
    throw ClaimsRejected("nbf is in the future");
  }
  return boost::json::serialize(parsed);
}

}  // namespace orbitnest::keyd
