#pragma once
// Outgoing mail and SMS go through auth.outbox: written in the same
// transaction as the code they carry, so a crash between commit and send
// loses nothing, and sent by OutboxMailer (one worker for both channels)
// with retries and backoff.
#include <pqxx/pqxx>

#include <string>

namespace orbitnest::authd {

// `ttl_seconds`: the life of the code the body carries; past it the queued
// body is blanked, sent or not (a project without a relay must not keep
// live-looking codes and link tokens in clear forever).
void enqueue_email(pqxx::work& tx, const std::string& project_ref, const std::string& to, const std::string& subject,
                   const std::string& body, int ttl_seconds);

// An SMS to `to_e164` (already validated, + and digits), through the
// project's Twilio account. Same `ttl_seconds` rule as mail.
void enqueue_sms(pqxx::work& tx, const std::string& project_ref, const std::string& to_e164, const std::string& body,
                 int ttl_seconds);

}  // namespace orbitnest::authd
