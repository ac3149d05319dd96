#include "authd/admin/passkey_admin_flows.h"

#include "authd/api/api_error.h"
#include "authd/api/json_body.h"
#include "authd/flows/passkey_realm.h"
#include "authd/stores/passkey_store.h"
#include "authd/stores/session_store.h"

namespace orbitnest::authd {
namespace {

// /admin/v1/projects/<ref>/users/<user_id>/passkeys[/<id>]
struct Target {
  std::shared_ptr<const Project> project;
  std::string user_id;
  std::string passkey_id;
};

Target target_of(AuthServices& s, const Request& req) {
  std::vector<std::string> parts;
  std::size_t at = 0;
  while (at < req.path.size()) {
    const std::size_t next = req.path.find('/', at + 1);
    parts.push_back(req.path.substr(at + 1, (next == std::string::npos ? req.path.size() : next) - at - 1));
    at = next == std::string::npos ? req.path.size() : next;
  }
  // admin v1 projects <ref> users <user_id> passkeys [<id>]
  if (parts.size() < 7) {
    throw ApiError(404, "not_found", "No such route");
  }
  Target t;
  t.project = s.projects.find(parts[3]);
  if (!t.project) {
    throw ApiError(404, "project_not_found", "No project with this ref");
  }
  t.user_id = parts[5];
  if (!is_uuid(t.user_id)) {
    throw ApiError(404, "user_not_found", "No user with this id");
  }
  t.passkey_id = parts.size() > 7 ? parts[7] : "";
  return t;
}

}  // namespace

Response admin_list_user_passkeys(AuthServices& s, const RealmCall& c, const AdminUser&) {
  const Target t = target_of(s, c.req);
  PgPool::Lease conn = s.pg.lease();
  pqxx::work tx(*conn);
  boost::json::array out;
  for (const PasskeyRow& p : PasskeyStore(*t.project).list(tx, t.user_id)) {
    out.push_back(passkey_json(p));
  }
  tx.commit();
  return json_response(200, out);
}

Response admin_rename_user_passkey(AuthServices& s, const RealmCall& c, const AdminUser&) {
  const Target t = target_of(s, c.req);
  const std::string name = JsonBody::parse(c.req).string("friendly_name").value_or("");
  if (name.size() > 128) {
    throw ApiError(400, "validation_failed", "friendly_name is longer than 128 bytes");
  }
  PgPool::Lease conn = s.pg.lease();
  pqxx::work tx(*conn);
  const PasskeyStore passkeys(*t.project);
  if (!passkeys.rename(tx, t.user_id, t.passkey_id, name)) {
    throw ApiError(404, "passkey_not_found", "No passkey with this id");
  }
  const std::optional<PasskeyRow> row = passkeys.find(tx, t.user_id, t.passkey_id);
  tx.commit();
  return json_response(200, passkey_json(*row));
}

Response admin_revoke_user_passkey(AuthServices& s, const RealmCall& c, const AdminUser& who) {
  const Target t = target_of(s, c.req);
  PgPool::Lease conn = s.pg.lease();
  pqxx::work tx(*conn);
  if (!PasskeyStore(*t.project).revoke(tx, t.user_id, t.passkey_id, "admin:" + who.user.id, c.req.remote_address)) {
    throw ApiError(404, "passkey_not_found", "No passkey with this id");
  }
  SessionStore(*t.project).lower_raised_by(tx, t.passkey_id, "webauthn");
  tx.commit();
  return json_response(200, boost::json::object{{"id", t.passkey_id}});
}

}  // namespace orbitnest::authd
