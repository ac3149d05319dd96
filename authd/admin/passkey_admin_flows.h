#pragma once
// The admin API over a project user's passkeys (the seed's settings
// page: device management and revocation), admin_routes.cpp wires them:
//   GET    /admin/v1/projects/{ref}/users/{user_id}/passkeys
//   PATCH  /admin/v1/projects/{ref}/users/{user_id}/passkeys/{id} {friendly_name}
//   DELETE /admin/v1/projects/{ref}/users/{user_id}/passkeys/{id}
// A revocation is recorded as admin:<admin id>.
#include "authd/flows/auth_api.h"

namespace orbitnest::authd {

Response admin_list_user_passkeys(AuthServices& s, const RealmCall& c, const AdminUser& who);
Response admin_rename_user_passkey(AuthServices& s, const RealmCall& c, const AdminUser& who);
Response admin_revoke_user_passkey(AuthServices& s, const RealmCall& c, const AdminUser& who);

}  // namespace orbitnest::authd
