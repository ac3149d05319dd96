#pragma once
// The admin realm, from authd.yaml's admin section.
#include "authd/realms/realm.h"
#include "config/authd_config.h"

namespace orbitnest::authd {

Realm make_admin_realm(const config::AuthdAdminConfig& cfg);

}  // namespace orbitnest::authd
