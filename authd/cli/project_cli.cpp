#include "authd/cli/project_cli.h"

#include <string.h>  // explicit_bzero

#include <boost/json.hpp>
#include <cstdlib>
#include <iostream>
#include <pqxx/pqxx>

#include "authd/cli/admin_cli.h"
#include "authd/db/migrations.h"
#include "authd/db/pg_pool.h"
#include "authd/keyd/keyd_link.h"
#include "authd/projects/project_store.h"
#include "keyd/keyring/base64url.h"

namespace orbitnest::authd {
namespace {

constexpr const char* kUsage =
    "usage: authd [--config FILE] COMMAND\n"
    "  serve                                   run the daemon (the default)\n"
    "  migrate [--to VERSION]                  apply the schema migrations (up to VERSION) and exit\n"
    "  project create REF [--name NAME] [--debug]\n"
    "  project list\n"
    "  project settings REF [KEY=JSON ...]     show, or change, a project's settings\n"
    "  project smtp-password REF               seal the SMTP password read from stdin (keyd)\n"
    "  project twilio-token REF                seal the Twilio auth token read from stdin (keyd)\n"
    "  outbox list                             mail and SMS not sent (waiting, or failed for good)\n"
    "  admin create|passwd|ban|unban|unlock|delete EMAIL, admin list   the admins (authd admin)\n";

int usage() {
  std::cerr << kUsage;
  return 64;
}

int migrate(const std::string& conninfo, int up_to) {
  pqxx::connection conn(conninfo);
  const MigrationReport r = apply_migrations(conn, up_to);
  std::cout << "schema at version " << r.to_version << " (" << r.applied.size() << " migration(s) applied)\n";
  return 0;
}

void print_project(const Project& p) {
  std::cout << "project " << p.ref << " (" << p.name << ")\n"
            << "  issuer:          " << p.issuer << "\n"
            << "  keyring:         " << p.keyring << "\n"
            << "  publishable key: " << p.publishable_key << "\n"
            << "  debug mode:      " << (p.settings.debug_mode ? "ON (code is always 1234, no mail is sent)" : "off")
            << "\n";
}

// A credential a project's sender needs, kept only sealed by keyd in the
// project's settings, bound to the project (aad = its ref).
struct ProjectSecret {
  const char* purpose;                        // keyd's seal purpose
  const char* what;                           // for messages
  std::string& (*sealed_in)(ProjectSettings&);  // where the sealed blob is kept
};

std::string& smtp_password_of(ProjectSettings& s) { return s.smtp.password_sealed; }
std::string& twilio_token_of(ProjectSettings& s) { return s.twilio.auth_token_sealed; }

constexpr ProjectSecret kSmtpPassword{"smtp", "SMTP password", smtp_password_of};
constexpr ProjectSecret kTwilioToken{"twilio", "Twilio auth token", twilio_token_of};

// `smtp={...}` or `twilio={...}` replaces the whole object; a sealed secret
// it does not name is carried over, so that changing the sender does not
// silently drop the password or token (set "" to remove one).
void keep_sealed_secret(const boost::json::object& current, const std::string& key, boost::json::value& next) {
  const char* const field = key == "smtp" ? "password_sealed" : key == "twilio" ? "auth_token_sealed" : nullptr;
  const boost::json::value* old = current.if_contains(key);
  if (field == nullptr || old == nullptr || !old->is_object() || !next.is_object() ||
      next.as_object().contains(field)) {
    return;
  }
  if (const boost::json::value* sealed = old->as_object().if_contains(field)) {
    next.as_object()[field] = *sealed;
  }
}

// Read from stdin, never from argv (which other users can see).
int seal_project_secret(ProjectStore& projects, KeydLink& keyd, const std::string& ref, const ProjectSecret& secret) {
  const std::shared_ptr<const Project> p = projects.find(ref);
  if (!p) {
    std::cerr << "authd: no project " << ref << "\n";
    return 1;
  }
  std::string plain;
  std::getline(std::cin, plain);
  if (plain.empty()) {
    std::cerr << "authd: give the " << secret.what << " on stdin\n";
    return 64;
  }
  ProjectSettings updated = p->settings;
  secret.sealed_in(updated) = keyd::base64url_encode(keyd.client().seal(secret.purpose, p->ref, plain));
  ::explicit_bzero(plain.data(), plain.size());
  projects.update_settings(p->ref, updated);
  std::cout << secret.what << " sealed for project " << p->ref << "\n";
  return 0;
}

}  // namespace

int run_cli(const config::AuthdConfig& cfg, const std::string& conninfo, const std::vector<std::string>& args) {
  if (args.empty()) {
    return usage();
  }
  try {
    if (args[0] == "migrate" && args.size() == 1) {
      return migrate(conninfo, 0);
    }
    if (args[0] == "migrate" && args.size() == 3 && args[1] == "--to") {
      const int up_to = std::atoi(args[2].c_str());
      if (up_to <= 0) {
        std::cerr << "authd: migrate --to needs a version number (1, 2, ...)\n";
        return 64;
      }
      return migrate(conninfo, up_to);
    }
    PgPool pg(conninfo, 2, std::chrono::milliseconds(5000));
    KeydLink keyd(cfg.keyd.socket_path, std::chrono::milliseconds(cfg.keyd.request_timeout_ms),
                  std::chrono::milliseconds(cfg.keyd.reconnect_max_backoff_ms), 2);
    if (args[0] == "admin") {
      return run_admin_cli(cfg, pg, keyd, args);
    }
    ProjectStore projects(pg, keyd);
    if (args[0] == "project" && args.size() >= 3 && args[1] == "create") {
      std::string name = args[2];
      ProjectSettings settings;
      for (std::size_t i = 3; i < args.size(); ++i) {
        if (args[i] == "--name" && i + 1 < args.size()) {
          name = args[++i];
        } else if (args[i] == "--debug") {
          settings.debug_mode = true;
        } else {
          return usage();
        }
      }
      {
        PgPool::Lease conn = pg.lease();
        apply_migrations(*conn);
      }
      const CreatedProject created = projects.create(args[2], name, settings);
      print_project(created.project);
      std::cout << "  secret key:      " << created.secret_key << "   (shown once; keep it safe)\n";
      return 0;
    }
    if (args[0] == "project" && args.size() == 2 && args[1] == "list") {
      for (const Project& p : projects.list()) {
        print_project(p);
      }
      return 0;
    }
    if (args[0] == "project" && args.size() >= 3 && args[1] == "settings") {
      const std::shared_ptr<const Project> p = projects.find(args[2]);
      if (!p) {
        std::cerr << "authd: no project " << args[2] << "\n";
        return 1;
      }
      boost::json::object s = p->settings.to_json();
      for (std::size_t i = 3; i < args.size(); ++i) {
        const std::size_t eq = args[i].find('=');
        if (eq == std::string::npos) {
          return usage();
        }
        boost::json::error_code ec;
        const boost::json::value v = boost::json::parse(args[i].substr(eq + 1), ec);
        const std::string key = args[i].substr(0, eq);
        boost::json::value next = ec ? boost::json::value(args[i].substr(eq + 1)) : v;
        keep_sealed_secret(s, key, next);
        s[key] = std::move(next);
      }
      const ProjectSettings updated = ProjectSettings::from_json(s);
      if (args.size() > 3) {
        projects.update_settings(args[2], updated);
      }
      std::cout << boost::json::serialize(updated.to_json()) << "\n";
      return 0;
    }
    if (args[0] == "project" && args.size() == 3 &&
        (args[1] == "smtp-password" || args[1] == "twilio-token")) {
      return seal_project_secret(projects, keyd, args[2], args[1] == "smtp-password" ? kSmtpPassword : kTwilioToken);
    }
    if (args[0] == "outbox" && args.size() == 2 && args[1] == "list") {
      PgPool::Lease conn = pg.lease();
      pqxx::nontransaction q(*conn);
      // A message failed for good waits for 'infinity' (OutboxMailer).
      for (const pqxx::row& r : q.exec("SELECT id, project_ref, channel, recipient, subject, attempts, "
                                       "coalesce(last_error, ''), "
                                       "CASE WHEN next_attempt_at = 'infinity' THEN 'failed' "
                                       "ELSE 'next=' || next_attempt_at::text END "
                                       "FROM auth.outbox WHERE sent_at IS NULL ORDER BY id")) {
        std::cout << r[0].as<std::string>() << "  " << r[1].as<std::string>() << "  " << r[2].as<std::string>()
                  << "  " << r[3].as<std::string>();
        if (r[2].as<std::string>() == "email") {
          std::cout << "  \"" << r[4].as<std::string>() << "\"";
        }
        std::cout << "  attempts=" << r[5].as<int>() << "  " << r[7].as<std::string>() << "  "
                  << r[6].as<std::string>() << "\n";
      }
      return 0;
    }
  } catch (const std::exception& e) {
    std::cerr << "authd: " << e.what() << "\n";
    return 1;
  }
  return usage();
}

}  // namespace orbitnest::authd
