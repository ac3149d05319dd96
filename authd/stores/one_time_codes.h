#pragma once
// One-time codes (sign-up, email sign-in, recovery): short numeric codes,
// stored only as keyd MACs bound to project, kind and recipient, with a
// lifetime and an attempt budget. A resend replaces the previous code.
//
// Brute force: a code dies after otp_max_attempts wrong tries, a new code
// can be had at most every otp_resend_seconds and sends_per_address_per_hour
// times an hour, an address takes at most kFailuresPerDay wrong codes a day
// in all, and every kLockoutEvery wrong codes lock it for kFirstLockout,
// doubling each time, until a code is verified: 15 min × (2^16 − 1) is more
// than a year, so an attacker gets at most 16 × 5 = 80 guesses a year at a
// 4-digit code, a chance below 0.8 % (README: Codes).
#include <pqxx/pqxx>

#include <chrono>
#include <string>
#include <vector>

#include "authd/flows/email_links.h"
#include "authd/keyd/keyd_link.h"
#include "authd/projects/project.h"

namespace orbitnest::authd {

inline constexpr int kFailuresPerDay = 25;
inline constexpr int kLockoutEvery = 5;
inline constexpr std::chrono::seconds kFirstLockout{15 * 60};

class OneTimeCodes final {
 public:
  explicit OneTimeCodes(KeydLink& keyd) : m_keyd(keyd) {}

  // Checks the per-address send limits (429) and returns a fresh code
  // (debug projects: always "1234").
  std::string issue(pqxx::connection& conn, const Project& project, const std::string& kind,
                    const std::string& recipient);
  // Stores `code` in `tx`, with a link token beside it (bound to the
  // link's PKCE challenge, if any), and returns the link token.
  std::string store(pqxx::work& tx, const Project& project, const std::string& kind, const std::string& recipient,
                    const std::string& code, const EmailLink& link);

  // Consumes the newest live code of one of `kinds` for `recipient` if
  // `code` matches and returns its kind. A wrong code burns an attempt:
  // consume() then commits `tx` itself (the attempt must count) and throws
  // ApiError 403 otp_expired, as it does for a missing or dead code.
  std::string consume(pqxx::connection& conn, pqxx::work& tx, const Project& project,
                      const std::vector<std::string>& kinds, const std::string& recipient, const std::string& code);

  struct Consumed {
    std::string kind;
    std::string recipient;
  };
  // Consumes the live code whose link token is `token`: a plain link
  // (verifier empty; kind one of `kinds`) answers 403 otp_expired when
  // unknown, used, expired or PKCE-bound; a PKCE exchange answers 404
  // flow_state_not_found, 422 flow_state_expired, or 400 bad_code_verifier
  // for a verifier that does not match (which burns an attempt: then `tx`
  // is committed here).
  Consumed consume_link(pqxx::work& tx, const Project& project, const std::vector<std::string>& kinds,
                        const std::string& token);
  Consumed consume_pkce(pqxx::work& tx, const Project& project, const std::string& auth_code,
                        const std::string& verifier);
  // Every live code for `recipient` dies (a new password was set).
  void void_pending(pqxx::transaction_base& tx, const Project& project, const std::string& recipient);

 private:
  std::string mac(const Project& project, const std::string& kind, const std::string& recipient,
                  const std::string& code, int version, int* used_version);
  KeydLink& m_keyd;
};

}  // namespace orbitnest::authd
