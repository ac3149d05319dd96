#include "authd/stores/one_time_codes.h"

#include <botan/mem_ops.h>

#include "authd/api/api_error.h"
#include "authd/flows/session_issuer.h"
#include "authd/security/random.h"
#include "authd/security/rate_limiter.h"

namespace orbitnest::authd {
namespace {

[[noreturn]] void invalid_code() { throw ApiError(403, "otp_expired", "Token has expired or is invalid"); }

constexpr std::size_t kLinkTokenBytes = 32;

std::string kind_list(const std::vector<std::string>& kinds) {
  std::string list = "{";
  for (const std::string& k : kinds) {
    list += (list.size() > 1 ? "," : "") + k;
  }
  return list + "}";
}

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
  // GoTrue's codes: a texted code's limits say so.
  const char* const too_many = kind == "sms" ? "over_sms_send_rate_limit" : "over_email_send_rate_limit";
  {
    pqxx::nontransaction q(conn);
    const pqxx::result last = q.exec_params(
        "SELECT ceil($4 - extract(epoch FROM now() - created_at))::int FROM auth.one_time_codes "
        "WHERE project_ref = $1 AND recipient = $2 AND kind = $3 AND created_at > now() - make_interval(secs => $4) "
        "ORDER BY created_at DESC LIMIT 1",
        project.ref, recipient, kind, s.otp_resend_seconds);
    if (!last.empty()) {
      const int wait = std::max(1, last[0][0].as<int>());
      ApiError e(429, too_many,
                 "For security purposes, you can only request this after " + std::to_string(wait) + " seconds.");
      e.retry_after = wait;
      throw e;
    }
  }
  rate_limit_hit(conn, "send:" + project.ref + ":" + recipient, s.sends_per_address_per_hour, 3600,
                 too_many, "Too many codes sent to this address or number; try again later");
  return s.debug_mode ? std::string("1234") : random_digits(s.otp_length);
}

std::string OneTimeCodes::store(pqxx::work& tx, const Project& project, const std::string& kind,
                                const std::string& recipient, const std::string& code, const EmailLink& link) {
  int version = 0;
  const std::string m = mac(project, kind, recipient, code, 0, &version);
  const std::string link_token = random_token(kLinkTokenBytes);
  // A new code replaces the older ones of its kind.
  tx.exec_params(
      "UPDATE auth.one_time_codes SET consumed_at = now() "
      "WHERE project_ref = $1 AND recipient = $2 AND kind = $3 AND consumed_at IS NULL",
      project.ref, recipient, kind);
  tx.exec_params(
      "INSERT INTO auth.one_time_codes (id, project_ref, kind, recipient, code_mac, mac_version, max_attempts, expires_at, "
      "link_hash, code_challenge, code_challenge_method) "
      "VALUES ($1::uuid, $2, $3, $4, $5, $6, $7, now() + make_interval(secs => $8), $9, nullif($10, ''), nullif($11, ''))",
      uuid_v4(), project.ref, kind, recipient, pqxx::binarystring(m), version, project.settings.otp_max_attempts,
      project.settings.otp_ttl_seconds, pqxx::binarystring(sha256_bytes(link_token)), link.code_challenge,
      link.code_challenge_method);
  return link_token;
}

OneTimeCodes::Consumed OneTimeCodes::consume_link(pqxx::work& tx, const Project& project,
                                                  const std::vector<std::string>& kinds, const std::string& token) {
  if (token.empty() || token.size() > 128) {
    throw ApiError(403, "otp_expired", "Email link is invalid or has expired");
  }
  const pqxx::result r = tx.exec_params(
      "UPDATE auth.one_time_codes SET consumed_at = now() "
      "WHERE link_hash = $1 AND project_ref = $2 AND kind = ANY($3::text[]) AND code_challenge IS NULL "
      "AND consumed_at IS NULL AND expires_at > now() AND attempts < max_attempts RETURNING kind, recipient",
      pqxx::binarystring(sha256_bytes(token)), project.ref, kind_list(kinds));
  if (r.empty()) {
    throw ApiError(403, "otp_expired", "Email link is invalid or has expired");
  }
  return Consumed{r[0][0].as<std::string>(), r[0][1].as<std::string>()};
}

OneTimeCodes::Consumed OneTimeCodes::consume_pkce(pqxx::work& tx, const Project& project, const std::string& auth_code,
                                                  const std::string& verifier) {
  const pqxx::result r =
      auth_code.empty() || auth_code.size() > 128
          ? pqxx::result()
          : tx.exec_params("SELECT id::text, kind, recipient, code_challenge, code_challenge_method, "
                           "expires_at <= now() AS expired FROM auth.one_time_codes "
                           "WHERE link_hash = $1 AND project_ref = $2 AND code_challenge IS NOT NULL "
                           "AND consumed_at IS NULL AND attempts < max_attempts FOR UPDATE",
                           pqxx::binarystring(sha256_bytes(auth_code)), project.ref);
  if (r.empty()) {
    throw ApiError(404, "flow_state_not_found", "invalid flow state, no valid flow state found");
  }
  if (r[0]["expired"].as<bool>()) {
    throw ApiError(422, "flow_state_expired", "invalid flow state, flow state has expired");
  }
  const std::string id = r[0]["id"].as<std::string>();
  if (!pkce_verifier_matches(verifier, r[0]["code_challenge"].as<std::string>(),
                             r[0]["code_challenge_method"].as<std::string>())) {
    // The attempt counts, as a wrong code's does.
    tx.exec_params("UPDATE auth.one_time_codes SET attempts = attempts + 1 WHERE id = $1::uuid", id);
    tx.commit();
    throw ApiError(400, "bad_code_verifier", "code challenge does not match previously saved code verifier");
  }
  tx.exec_params("UPDATE auth.one_time_codes SET consumed_at = now() WHERE id = $1::uuid", id);
  return Consumed{r[0]["kind"].as<std::string>(), r[0]["recipient"].as<std::string>()};
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
  // The address's lockout row, locked: concurrent guesses at one address
  // (at its sign-in and reset codes alike) take turns, and each sees the
  // failures counted before it.
  tx.exec_params("INSERT INTO auth.code_lockouts (project_ref, recipient) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                 project.ref, recipient);
  const pqxx::row lock = tx.exec_params1(
      "SELECT coalesce(locked_until > now(), false), ceil(extract(epoch FROM locked_until - now()))::bigint "
      "FROM auth.code_lockouts WHERE project_ref = $1 AND recipient = $2 FOR UPDATE",
      project.ref, recipient);
  if (lock[0].as<bool>()) {
    const std::int64_t wait = std::max<std::int64_t>(1, lock[1].as<std::int64_t>());
    ApiError e(429, "over_request_rate_limit",
               "Too many wrong codes for this address; try again in " + std::to_string((wait + 59) / 60) + " minutes");
    e.retry_after = static_cast<int>(std::min<std::int64_t>(wait, 86400 * 365));
    throw e;
  }
  const pqxx::result live = tx.exec_params(
      "SELECT id::text, kind, code_mac, mac_version FROM auth.one_time_codes "
      "WHERE project_ref = $1 AND recipient = $2 AND kind = ANY($3::text[]) AND consumed_at IS NULL "
      "AND expires_at > now() AND attempts < max_attempts ORDER BY created_at DESC LIMIT 1 FOR UPDATE",
      project.ref, recipient, kind_list(kinds));
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
    tx.exec_params("DELETE FROM auth.code_lockouts WHERE project_ref = $1 AND recipient = $2", project.ref, recipient);
    return live[0][1].as<std::string>();
  }
  if (!live.empty()) {
    tx.exec_params("UPDATE auth.one_time_codes SET attempts = attempts + 1 WHERE id = $1::uuid",
                   live[0][0].as<std::string>());
    // Every kLockoutEvery wrong guesses at a live code lock the address for
    // kFirstLockout, doubling each time, until a code is verified. (Guesses
    // with no live code guess nothing, and lock nobody out.)
    tx.exec_params(
        "UPDATE auth.code_lockouts SET failures = failures + 1, updated_at = now(), "
        "locked_until = CASE WHEN (failures + 1) % $3 = 0 "
        "  THEN now() + make_interval(secs => $4 * power(2, least((failures + 1) / $3 - 1, 20))) "
        "  ELSE locked_until END WHERE project_ref = $1 AND recipient = $2",
        project.ref, recipient, kLockoutEvery, static_cast<int>(kFirstLockout.count()));
  } else {
    tx.exec_params("DELETE FROM auth.code_lockouts WHERE project_ref = $1 AND recipient = $2 AND failures = 0",
                   project.ref, recipient);
  }
  tx.commit();
  // Counted, not checked: the answer stays "invalid code"; the next try is
  // refused up front.
  add_hits(conn, {{fail_key, 1}}, 86400);
  invalid_code();
}

void OneTimeCodes::void_pending(pqxx::transaction_base& tx, const Project& project, const std::string& recipient) {
  tx.exec_params("UPDATE auth.one_time_codes SET consumed_at = now() WHERE project_ref = $1 AND recipient = $2 "
                 "AND consumed_at IS NULL",
                 project.ref, recipient);
}

}  // namespace orbitnest::authd
