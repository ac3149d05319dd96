#include "authd/flows/one_time_codes.h"

#include <botan/mem_ops.h>

#include "authd/api/api_error.h"
#include "authd/security/random.h"
#include "authd/security/rate_limiter.h"

namespace orbitnest::authd {
namespace {

[[noreturn]] void invalid_code() { throw ApiError(403, "otp_expired", "Token has expired or is invalid"); }

}  // namespace

std::string OneTimeCodes::mac(const Project& project, const std::string& kind, const std::string& recipient,
                              const std::string& code, int version, int* used_version) {
  std::string data = project.ref;
  data += '\0';
  data += kind;
  data += '\0';
  data += recipient;
  data += '\0';
  data += code;
  return m_keyd.mac("otp", data, version, used_version);
}

std::string OneTimeCodes::issue(pqxx::connection& conn, const Project& project, const std::string& kind,
                                const std::string& recipient) {
  const ProjectSettings& s = project.settings;
  {
    pqxx::nontransaction q(conn);
    const pqxx::result last = q.exec_params(
        "SELECT ceil($4 - extract(epoch FROM now() - created_at))::int FROM auth.one_time_codes "
        "WHERE project_ref = $1 AND recipient = $2 AND kind = $3 AND created_at > now() - make_interval(secs => $4) "
        "ORDER BY created_at DESC LIMIT 1",
        project.ref, recipient, kind, s.otp_resend_seconds);
    if (!last.empty()) {
      const int wait = std::max(1, last[0][0].as<int>());
      ApiError e(429, "over_email_send_rate_limit",
                 "For security purposes, you can only request this after " + std::to_string(wait) + " seconds.");
      e.retry_after = wait;
      throw e;
    }
  }
  rate_limit_hit(conn, "send:" + project.ref + ":" + recipient, s.sends_per_address_per_hour, 3600,
                 "over_email_send_rate_limit", "Too many codes sent to this address; try again later");
  return s.debug_mode ? std::string("1234") : random_digits(s.otp_length);
}

void OneTimeCodes::store(pqxx::work& tx, const Project& project, const std::string& kind,
                         const std::string& recipient, const std::string& code) {
  int version = 0;
  const std::string m = mac(project, kind, recipient, code, 0, &version);
  // A new code replaces the older ones of its kind.
  tx.exec_params(
      "UPDATE auth.one_time_codes SET consumed_at = now() "
      "WHERE project_ref = $1 AND recipient = $2 AND kind = $3 AND consumed_at IS NULL",
      project.ref, recipient, kind);
  tx.exec_params(
      "INSERT INTO auth.one_time_codes (id, project_ref, kind, recipient, code_mac, mac_version, max_attempts, expires_at) "
      "VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8))",
      uuid_v4(), project.ref, kind, recipient, pqxx::binarystring(m), version, project.settings.otp_max_attempts,
      project.settings.otp_ttl_seconds);
}

std::string OneTimeCodes::consume(pqxx::connection& conn, pqxx::work& tx, const Project& project,
                                  const std::vector<std::string>& kinds, const std::string& recipient,
                                  const std::string& code) {
  const std::string fail_key = "otpfail:" + project.ref + ":" + recipient;
  if (rate_limit_reached(tx, fail_key, kFailuresPerDay, 86400)) {
    ApiError e(429, "over_request_rate_limit", "Too many wrong codes for this address; try again tomorrow");
    e.retry_after = 3600;
    throw e;
  }
  std::string kind_list = "{";
  for (const std::string& k : kinds) {
    kind_list += (kind_list.size() > 1 ? "," : "") + k;
  }
  kind_list += "}";
  const pqxx::result live = tx.exec_params(
      "SELECT id::text, kind, code_mac, mac_version FROM auth.one_time_codes "
      "WHERE project_ref = $1 AND recipient = $2 AND kind = ANY($3::text[]) AND consumed_at IS NULL "
      "AND expires_at > now() AND attempts < max_attempts ORDER BY created_at DESC LIMIT 1 FOR UPDATE",
      project.ref, recipient, kind_list);
  bool ok = false;
  if (!live.empty() && code.size() >= 4 && code.size() <= 10) {
    const std::string kind = live[0][1].as<std::string>();
    const pqxx::binarystring stored(live[0][2]);
    int used = 0;
    const std::string candidate = mac(project, kind, recipient, code, live[0][3].as<int>(), &used);
    ok = candidate.size() == stored.size() &&
         Botan::constant_time_compare(reinterpret_cast<const std::uint8_t*>(candidate.data()), stored.data(),
                                      candidate.size());
  }
  if (ok) {
    tx.exec_params("UPDATE auth.one_time_codes SET consumed_at = now() WHERE id = $1::uuid", live[0][0].as<std::string>());
    return live[0][1].as<std::string>();
  }
  if (!live.empty()) {
    tx.exec_params("UPDATE auth.one_time_codes SET attempts = attempts + 1 WHERE id = $1::uuid",
                   live[0][0].as<std::string>());
  }
  tx.commit();
  try {
    rate_limit_hit(conn, fail_key, kFailuresPerDay, 86400, "over_request_rate_limit",
                   "Too many wrong codes for this address; try again tomorrow");
  } catch (const ApiError&) {
    // The answer stays "invalid code"; the next try is refused up front.
  }
  invalid_code();
}

}  // namespace orbitnest::authd
