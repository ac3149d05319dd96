#pragma once
// One mail over SMTP (libcurl: SMTPS, or STARTTLS required when
// smtp.starttls; AUTH when a username is set).
#include <string>

#include "authd/realms/realm_settings.h"

namespace orbitnest::authd {

// TLS verified against the system's CAs or smtp.ca_file. Empty on success,
// else curl's error (which never holds the password or the body).
std::string smtp_send(const SmtpSettings& smtp, const std::string& password, const std::string& to,
                      const std::string& subject, const std::string& body);

}  // namespace orbitnest::authd
