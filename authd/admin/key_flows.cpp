// POST /admin/v1/keys/rotate: an admin rotates a keyring's signing key.
// authd's uid may not call keyd's operator `rotate`; it forwards the
// admin's own access token with rotate_by_admin, and keyd verifies that
// token itself against the admin keyring and audits the rotation with the
// admin's id — a subverted authd holding no admin token rotates nothing.
#include "authd/admin/key_flows.h"

#include "authd/api/api_error.h"
#include "authd/api/json_body.h"
#include "authd/projects/project_store.h"
#include "systemd/log.h"

namespace orbitnest::authd {
namespace {

// "admin" or "project:<ref>", nothing else reaches keyd.
std::string keyring_of(const JsonBody& body) {
  const std::string keyring = body.required_string("keyring");
  if (keyring == "admin" || (keyring.rfind("project:", 0) == 0 && is_project_ref(keyring.substr(8)))) {
    return keyring;
  }
  throw ApiError(400, "validation_failed", "keyring must be \"admin\" or \"project:<ref>\"");
}

}  // namespace

Response rotate_keys(AuthServices& s, const RealmCall& c, const AdminUser& who) {
  const JsonBody body = JsonBody::parse(c.req);
  const std::string keyring = keyring_of(body);
  const std::optional<std::string> token = bearer_token(c.req);  // the route verified it already
  keyd::RotateByAdminAnswer answer;
  try {
    answer = s.keyd.client().rotate_by_admin(*token, keyring);
  } catch (const keyd::KeydError& e) {
    if (e.status() == keyd::Status::bad_request) {
      // keyd's reason is for the admin who asked (an unknown keyring, a next
      // key not yet published long enough, a token keyd refused).
      throw ApiError(409, "key_rotation_refused", e.what());
    }
    ApiError unavailable(503, "service_unavailable", "The key service could not rotate now; retry shortly");
    unavailable.retry_after = 5;
    throw unavailable;
  }
  log::notice("authd.keys_rotated", {{"keyring", keyring}, {"admin", who.user.id}, {"actor", answer.actor}});
  boost::json::error_code ec;
  boost::json::value keys = boost::json::parse(answer.keys, ec);
  return json_response(200, boost::json::object{{"keyring", keyring},
                                                {"keys", ec ? boost::json::value(nullptr) : std::move(keys)},
                                                {"actor", answer.actor}});
}

}  // namespace orbitnest::authd
