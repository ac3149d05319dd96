// What an authd-uid peer cannot do to keyd, through the real daemon and
// socket: hold every connection slot (operators keep theirs), create
// keyrings without bound (refused past keyrings.max_project_keyrings, and
// audited), or get another role configured for project keyrings.
#include <gtest/gtest.h>
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/support/keyd_session.h"

namespace orbitnest::test {
namespace {

using keyd::Op;
using namespace std::chrono_literals;

constexpr uid_t kNobody = 65534;

// keyd.yaml with extra lines put at the top of a section.
std::string with_keys(std::string yaml, const std::string& section, const std::string& lines) {
  const std::size_t at = yaml.find(section + ":\n");
  EXPECT_NE(at, std::string::npos) << section;
  yaml.insert(at + section.size() + 2, lines);
  return yaml;
}

// Connections that completed hello, or nullopt when keyd closed it unread.
std::optional<keyd::KeydConnection> try_connect(const Appliance& a) {
  try {
    keyd::KeydConnection conn(a.keyd_socket(), 3000ms);
    conn.call(Op::status, {});
    return conn;
  } catch (const keyd::KeydUnavailable&) {
    return std::nullopt;
  }
}

void write_byte(int fd) {
  const char c = 1;
  ASSERT_EQ(::write(fd, &c, 1), 1);
}

bool read_byte(int fd) {
  char c = 0;
  return ::read(fd, &c, 1) == 1;
}

TEST(KeydLimits, AuthdPeersCannotTakeTheOperatorsSlots) {
  Appliance a(false);
  KeydOptions o;
  o.socket_mode = "0666";
  o.authd_user = "nobody";
  const std::string yaml =
      with_keys(a.keyd_yaml(o), "clients", "  authd_max_connections: 4\n  operator_max_connections: 2\n");
  auto keyd = a.start_keyd({}, a.write_config("keyd.yaml", yaml));
  connect_when_ready(a).call(Op::status, {});  // an operator connection, closed again

  int held[2];  // child -> parent: authd's slots are all taken
  int release[2];  // parent -> child: let them go
  ASSERT_EQ(::pipe(held), 0);
  ASSERT_EQ(::pipe(release), 0);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setgroups(0, nullptr);
    if (::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) {
      ::_exit(100);
    }
    int code = 0;
    std::vector<keyd::KeydConnection> mine;
    for (int i = 0; i < 4; ++i) {
      std::optional<keyd::KeydConnection> c = try_connect(a);
      if (!c) {
        ::_exit(10 + i);  // authd's own slots must be there
      }
      mine.push_back(std::move(*c));
    }
    for (int i = 0; i < 3; ++i) {
      if (try_connect(a)) {
        code = 20;  // a fifth authd connection was served
      }
    }
    const char c = 1;
    if (::write(held[1], &c, 1) != 1) {
      ::_exit(101);
    }
    if (!read_byte(release[0])) {
      ::_exit(102);
    }
    // The slots held still serve.
    for (keyd::KeydConnection& conn : mine) {
      try {
        conn.call(Op::status, {});
      } catch (...) {
        code = 30;
      }
    }
    ::_exit(code);
  }
  ASSERT_TRUE(read_byte(held[0]));
  // authd's uid holds all of its slots: root (an operator) still gets in,
  // up to its own cap.
  std::optional<keyd::KeydConnection> op1 = try_connect(a);
  std::optional<keyd::KeydConnection> op2 = try_connect(a);
  EXPECT_TRUE(op1.has_value());
  EXPECT_TRUE(op2.has_value());
  EXPECT_FALSE(try_connect(a).has_value()) << "operator_max_connections is 2";
  if (op1) {
    EXPECT_NO_THROW(op1->call(Op::rotate, {"admin", keyd::encode_u8(1)}));
  }
  write_byte(release[1]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_NE(read_file(keyd->log_file()).find("keyd.too_many_connections class=authd limit=4"), std::string::npos);
  EXPECT_TRUE(keyd->running());
}

TEST(KeydLimits, ProjectKeyringsAreBoundedAndRefusalsAudited) {
  Appliance a(false);
  const std::string yaml = with_keys(a.keyd_yaml(), "keyrings", "  max_project_keyrings: 2\n");
  auto keyd = a.start_keyd({}, a.write_config("keyd.yaml", yaml));
  keyd::KeydConnection conn = connect_when_ready(a);
  conn.call(Op::ensure_keyring, {"alpha"});
  conn.call(Op::ensure_keyring, {"beta"});
  try {
    conn.call(Op::ensure_keyring, {"gamma"});
    FAIL() << "a third project keyring was created past max_project_keyrings: 2";
  } catch (const keyd::KeydError& e) {
    EXPECT_EQ(e.status(), keyd::Status::bad_request);
    EXPECT_NE(std::string(e.what()).find("keyrings.max_project_keyrings"), std::string::npos) << e.what();
  }
  EXPECT_THROW(conn.call(Op::list_keys, {"project:gamma"}), keyd::KeydError);
  // An existing one is still ensured (authd asks at every start).
  EXPECT_EQ(conn.call(Op::ensure_keyring, {"alpha"}).fields.at(0), "project:alpha");
  // Bad refs are refused before anything is created.
  for (const std::string& ref : {std::string("../admin"), std::string("Alpha"), std::string(64, 'a'), std::string()}) {
    EXPECT_THROW(conn.call(Op::ensure_keyring, {ref}), keyd::KeydError) << ref;
  }
  const std::string audit = read_file(a.dir.file("audit.log"));
  EXPECT_NE(audit.find(R"("event":"op_failed","op":"ensure_keyring")"), std::string::npos);
  EXPECT_NE(audit.find("max_project_keyrings"), std::string::npos);
  EXPECT_EQ(audit.find("project:gamma"), std::string::npos) << "no keyring record for the refused one";
  EXPECT_EQ(conn.call(Op::status, {}).status, keyd::Status::ok);
}

TEST(KeydLimits, ProjectKeyringsSignOnlyAuthenticatedAndAnon) {
  Appliance a(false);
  const auto check = [&](const std::string& yaml) {
    return run_command({ORBITNEST_KEYD_BIN, "--config", a.write_config("check.yaml", yaml), "--check-config"},
                       {{"SOFTHSM2_CONF", a.token.conf_path()}});
  };
  const std::string base = a.keyd_yaml();
  const auto project_roles = [&](const std::string& roles) {
    std::string y = base;
    const std::size_t at = y.find("  project:\n");
    y.insert(at + 11, "    roles: " + roles + "\n");
    return y;
  };
  for (const char* roles : {"[authenticated, anon, dashboard_user]", "[authenticated, authenticator]",
                            "[authenticated, admin]", "[pg_read_all_data]"}) {
    const auto [code, out] = check(project_roles(roles));
    EXPECT_EQ(code, 78) << roles << ": " << out;
    EXPECT_NE(out.find("keyrings.project.roles"), std::string::npos) << out;
  }
  EXPECT_EQ(check(project_roles("[authenticated]")).first, 0);
  // The admin keyring signs its configured roles, never a database one.
  std::string admin = base;
  admin.insert(admin.find("  admin:\n") + 9, "    roles: [admin, supabase_admin]\n");
  EXPECT_EQ(check(admin).first, 78);

  // Signing follows the allowlist.
  auto keyd = a.start_keyd();
  keyd::KeydConnection conn = connect_when_ready(a);
  conn.call(Op::ensure_keyring, {"demo"});
  EXPECT_NO_THROW(conn.call(Op::sign_jwt, {"project:demo", project_claims("demo", 600, "anon")}));
  for (const char* role : {"service_role", "dashboard_user", "admin", "authenticator"}) {
    EXPECT_THROW(conn.call(Op::sign_jwt, {"project:demo", project_claims("demo", 600, role)}), keyd::KeydError)
        << role;
  }
}

}  // namespace
}  // namespace orbitnest::test
