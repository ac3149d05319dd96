#include "authd/cli/admin_cli.h"

#include <iostream>

#include "authd/api/api_error.h"
#include "authd/db/migrations.h"
#include "authd/flows/auth_api.h"
#include "authd/flows/email_address.h"
#include "authd/realms/admin_realm.h"
#include "authd/security/password_hasher.h"
#include "authd/security/random.h"
#include "authd/stores/user_store.h"

namespace orbitnest::authd {
namespace {

int create_admin(const config::AuthdConfig& cfg, PgPool& pg, KeydLink& keyd, const std::string& raw_email) {
  const Realm admin = make_admin_realm(cfg.admin);
  const std::string email = canonical_email(raw_email);
  std::string password;
  std::getline(std::cin, password);
  if (!password.empty() && password.back() == '\r') {
    password.pop_back();
  }
  check_password_policy(admin, password);
  PasswordHasher hasher(keyd,
                        Argon2Params{static_cast<std::size_t>(cfg.passwords.argon2_memory_kib),
                                     static_cast<std::size_t>(cfg.passwords.argon2_iterations),
                                     static_cast<std::size_t>(cfg.passwords.argon2_parallelism)},
                        1);
  const PasswordHash hash = hasher.hash(password);
  PgPool::Lease conn = pg.lease();
  apply_migrations(*conn);
  pqxx::work tx(*conn);
  const UserStore admins(admin);
  if (admins.find_by_email(tx, email)) {
    std::cerr << "authd: an admin with the address " << email << " exists already\n";
    return 1;
  }
  const std::string id = uuid_v4();
  admins.create_confirmed(tx, id, email, hash.phc, hash.pepper_version, "{}");
  tx.commit();
  std::cout << "admin " << email << " created (id " << id << ")\n";
  return 0;
}

int list_admins(PgPool& pg) {
  PgPool::Lease conn = pg.lease();
  pqxx::nontransaction q(*conn);
  for (const pqxx::row& r : q.exec("SELECT id::text, email, created_at::text, coalesce(last_sign_in_at::text, 'never') "
                                   "FROM auth.admin_users ORDER BY created_at")) {
    std::cout << r[0].as<std::string>() << "  " << r[1].as<std::string>() << "  created " << r[2].as<std::string>()
              << "  last sign-in " << r[3].as<std::string>() << "\n";
  }
  return 0;
}

}  // namespace

int run_admin_cli(const config::AuthdConfig& cfg, PgPool& pg, KeydLink& keyd, const std::vector<std::string>& args) {
  try {
    if (args.size() == 3 && args[1] == "create") {
      return create_admin(cfg, pg, keyd, args[2]);
    }
    if (args.size() == 2 && args[1] == "list") {
      return list_admins(pg);
    }
  } catch (const ApiError& e) {
    std::cerr << "authd: " << e.what() << "\n";
    return 1;
  }
  std::cerr << "usage: authd admin create EMAIL   (the password on stdin)\n"
               "       authd admin list\n";
  return 64;
}

}  // namespace orbitnest::authd
