#pragma once
// What a SIGHUP changes (authd re-reads authd.yaml): the log level, TLS
// files, connection limits, HTTP timeouts and size limits, the queue wait,
// the refresh-token history. What it cannot change without a restart —
// listeners, the database and keyd links, pool sizes, the admin realm,
// password hashing, RPC — keeps running as it is; the reload names those
// keys. Project settings (SMTP, Twilio, lifetimes, passkeys) are read
// from the database and never need either.
#include <memory>
#include <string>
#include <vector>

#include "config/authd_config.h"

namespace orbitnest::authd {

struct ReloadPlan {
  std::shared_ptr<const config::AuthdConfig> next;  // `running` with what may change taken from the file
  std::vector<std::string> needs_restart;           // sections whose change waits for a restart
};

ReloadPlan plan_reload(const config::AuthdConfig& running, const config::AuthdConfig& loaded);

}  // namespace orbitnest::authd
