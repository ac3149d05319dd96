#pragma once
// The admin API's key operations (admin_routes.cpp wires them).
#include "authd/flows/auth_api.h"

namespace orbitnest::authd {

// POST /admin/v1/keys/rotate {"keyring": "admin" | "project:<ref>"}: keyd
// rotates on the admin's own token (keyd op rotate_by_admin). 409
// key_rotation_refused with keyd's reason; 503 when keyd cannot.
Response rotate_keys(AuthServices& s, const RealmCall& c, const AdminUser& who);

}  // namespace orbitnest::authd
