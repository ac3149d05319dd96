#pragma once
// Outgoing mail goes through auth.outbox: written in the same transaction
// as the code it carries, so a crash between commit and send loses
// nothing, and sent by OutboxMailer with retries and backoff.
#include <pqxx/pqxx>

#include <string>

namespace orbitnest::authd {

void enqueue_email(pqxx::work& tx, const std::string& project_ref, const std::string& to, const std::string& subject,
                   const std::string& body);

}  // namespace orbitnest::authd
