#pragma once
// authd's operator commands: migrate, project create|list|settings,
// outbox list, admin create|list (admin_cli.h). Each prints for people, exits 0 on
// success, 1 on failure, 64 on a usage error.
#include <string>
#include <vector>

#include "config/authd_config.h"

namespace orbitnest::authd {

int run_cli(const config::AuthdConfig& cfg, const std::string& conninfo, const std::vector<std::string>& args);

}  // namespace orbitnest::authd
