#include "authd/cli/admin_cli.h"

#include <termios.h>
#include <unistd.h>

#include <iostream>

#include "authd/api/api_error.h"
#include "authd/db/migrations.h"
#include "authd/flows/auth_api.h"
#include "authd/flows/email_address.h"
#include "authd/realms/admin_realm.h"
#include "authd/security/password_hasher.h"
#include "authd/security/random.h"
#include "authd/security/rate_limiter.h"
#include "authd/stores/session_store.h"
#include "authd/stores/user_store.h"

namespace orbitnest::authd {
namespace {

constexpr const char* kUsage =
    "usage: authd admin create EMAIL     make an admin (password: typed twice, or one line on stdin)\n"
    "       authd admin passwd EMAIL     set a new password; ends the admin's sessions\n"
    "       authd admin ban EMAIL        refuse the admin everywhere; ends their sessions\n"
    "       authd admin unban EMAIL\n"
    "       authd admin unlock EMAIL     forget the admin's wrong passwords (lifts the 429)\n"
    "       authd admin delete EMAIL\n"
    "       authd admin list\n";

// Echo off while a terminal types the password; restored whatever happens.
class EchoOff final {
 public:
  EchoOff() : m_active(::isatty(STDIN_FILENO) == 1 && ::tcgetattr(STDIN_FILENO, &m_saved) == 0) {
    if (m_active) {
      termios quiet = m_saved;
      quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
      ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
  }
  ~EchoOff() {
    if (m_active) {
      ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &m_saved);
      std::cerr << "\n";
    }
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  termios m_saved{};
  bool m_active;
};

std::string read_line(const char* prompt) {
  const bool tty = ::isatty(STDIN_FILENO) == 1;
  if (tty) {
    std::cerr << prompt << std::flush;
  }
  std::string line;
  {
    const EchoOff quiet;
    std::getline(std::cin, line);
  }
  if (!line.empty() && line.back() == '\r') {
    line.pop_back();
  }
  return line;
}

// A terminal types it twice; a pipe gives one line. Spaces at either end
// are refused rather than kept: a pasted password that silently keeps
// them locks its owner out.
std::string read_new_password(const Realm& admin) {
  const std::string password = read_line("New admin password: ");
  if (::isatty(STDIN_FILENO) == 1 && read_line("Again: ") != password) {
    throw ApiError(400, "validation_failed", "the two passwords differ");
  }
  if (!password.empty() && (password.front() == ' ' || password.front() == '\t' || password.back() == ' ' ||
                            password.back() == '\t')) {
    throw ApiError(400, "validation_failed", "the password starts or ends with a space or tab");
  }
  check_password_policy(admin, password);
  return password;
}

PasswordHash hash_password(const config::AuthdConfig& cfg, KeydLink& keyd, const std::string& password) {
  // Hashed on this thread (0 hashing threads): a busy machine makes the
  // command slower, never refuses it.
  PasswordHasher hasher(keyd,
                        Argon2Params{static_cast<std::size_t>(cfg.passwords.argon2_memory_kib),
                                     static_cast<std::size_t>(cfg.passwords.argon2_iterations),
                                     static_cast<std::size_t>(cfg.passwords.argon2_parallelism)},
                        0);
  return hasher.hash(password);
}

struct AdminCommand {
  const config::AuthdConfig& cfg;
  PgPool& pg;
  KeydLink& keyd;
  Realm realm;
};

int create(AdminCommand& c, const std::string& email) {
  const PasswordHash hash = hash_password(c.cfg, c.keyd, read_new_password(c.realm));
  PgPool::Lease conn = c.pg.lease();
  apply_migrations(*conn);
  pqxx::work tx(*conn);
  const UserStore admins(c.realm);
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

// The commands on an existing admin, each in one transaction.
int change(AdminCommand& c, const std::string& verb, const std::string& email) {
  std::optional<PasswordHash> hash;
  if (verb == "passwd") {
    hash = hash_password(c.cfg, c.keyd, read_new_password(c.realm));
  }
  PgPool::Lease conn = c.pg.lease();
  pqxx::work tx(*conn);
  const UserStore admins(c.realm);
  const std::optional<UserRecord> admin = admins.find_by_email(tx, email);
  if (!admin) {
    std::cerr << "authd: no admin with the address " << email << "\n";
    return 1;
  }
  if (verb == "passwd") {
    admins.set_password(tx, admin->id, *hash);
    SessionStore(c.realm).delete_all(tx, admin->id);
  } else if (verb == "ban" || verb == "unban") {
    admins.set_banned(tx, admin->id, verb == "ban");
    if (verb == "ban") {
      SessionStore(c.realm).delete_all(tx, admin->id);
    }
  } else if (verb == "delete") {
    admins.remove(tx, admin->id);
  }
  if (verb == "unlock" || verb == "passwd") {
    clear_counters(tx, password_failure_account_prefix(c.realm, email));
  }
  tx.commit();
  std::cout << "admin " << email << ": " << verb << " done\n";
  return 0;
}

int list(AdminCommand& c) {
  PgPool::Lease conn = c.pg.lease();
  pqxx::nontransaction q(*conn);
  for (const UserRecord& u : UserStore(c.realm).list(q)) {
    std::cout << u.id << "  " << u.email << "  created " << u.created_at << "  last sign-in "
              << u.last_sign_in_at.value_or("never") << (u.banned ? "  BANNED" : "") << "\n";
  }
  return 0;
}

}  // namespace

int run_admin_cli(const config::AuthdConfig& cfg, PgPool& pg, KeydLink& keyd, const std::vector<std::string>& args) {
  AdminCommand c{cfg, pg, keyd, make_admin_realm(cfg.admin)};
  try {
    if (args.size() == 2 && args[1] == "list") {
      return list(c);
    }
    if (args.size() == 3 && args[1] == "create") {
      return create(c, canonical_email(args[2]));
    }
    if (args.size() == 3 && (args[1] == "passwd" || args[1] == "ban" || args[1] == "unban" || args[1] == "unlock" ||
                             args[1] == "delete")) {
      return change(c, args[1], canonical_email(args[2]));
    }
  } catch (const ApiError& e) {
    std::cerr << "authd: " << e.what() << "\n";
    return 1;
  }
  std::cerr << kUsage;
  return 64;
}

}  // namespace orbitnest::authd
