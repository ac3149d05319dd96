#pragma once
// `authd admin ...`: the admin user system's commands on the box. The first
// admin is made here (never by an open endpoint); the password is read from
// stdin, never from argv, which other users of the machine can see.
#include <string>
#include <vector>

#include "authd/db/pg_pool.h"
#include "authd/keyd/keyd_link.h"
#include "config/authd_config.h"

namespace orbitnest::authd {

// args[0] == "admin". Returns the exit status (64: usage).
int run_admin_cli(const config::AuthdConfig& cfg, PgPool& pg, KeydLink& keyd, const std::vector<std::string>& args);

}  // namespace orbitnest::authd
