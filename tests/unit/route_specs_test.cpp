// Walks every surface's route table: every row is well formed and says who
// may call it, what budget it counts against and how much body it reads —
// the policy a reader sees at a glance, checked here. Token isolation by
// construction: the project table serves only project principals, the
// admin table only admin ones (and each surface has its own listener).
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "authd/admin/admin_routes.h"
#include "authd/flows/project_routes.h"
#include "authd/ops/operations_routes.h"

namespace orbitnest::authd {
namespace {

bool is_admin_access(Access a) { return a == Access::admin || a == Access::admin_aal2; }
bool is_project_access(Access a) {
  return a == Access::api_key || a == Access::project_user || a == Access::project_user_aal2;
}

void expect_well_formed(Surface surface, std::span<const RouteSpec> rows, std::set<std::string>& names) {
  std::set<std::string> method_paths;
  for (const RouteSpec& r : rows) {
    SCOPED_TRACE(std::string(r.name));
    EXPECT_NO_THROW(check_route_spec(surface, r));
    EXPECT_TRUE(names.insert(std::string(r.name)).second) << "names are unique across surfaces";
    EXPECT_TRUE(method_paths.insert(std::string(r.method) + " " + std::string(r.path)).second);
    EXPECT_NE(r.rate, RateClass::unset) << "a rate class, or an explicit none";
    // A flow that fits the access: only a project-user route is handed a
    // ProjectUser, only an admin route an AdminUser.
    EXPECT_EQ(r.user_flow != nullptr, r.access == Access::project_user || r.access == Access::project_user_aal2);
    EXPECT_EQ(r.admin_flow != nullptr, is_admin_access(r.access));
    EXPECT_EQ(r.open_flow != nullptr, r.access == Access::none || r.access == Access::api_key);
    if (r.method == "GET" || r.method == "OPTIONS" || r.method == "DELETE") {
      EXPECT_EQ(r.body_limit, kNoBody) << "reads no body";
    } else {
      EXPECT_GT(r.body_limit, kNoBody);
      EXPECT_LE(r.body_limit, std::size_t{64 * 1024});
    }
  }
}

TEST(RouteSpecs, ProjectRowsAreWellFormed) {
  std::set<std::string> names;
  expect_well_formed(Surface::project, project_route_specs(), names);
  for (const RouteSpec& r : project_route_specs()) {
    SCOPED_TRACE(std::string(r.name));
    EXPECT_FALSE(is_admin_access(r.access)) << "no project route takes an admin";
    EXPECT_EQ(r.cors, CorsPolicy::project_origins);
    // The error shape follows the surface its client library parses.
    EXPECT_EQ(r.errors, r.path.starts_with("/rest/v1/") ? ErrorShape::postgrest : ErrorShape::gotrue_legacy);
    EXPECT_TRUE(r.path.starts_with("/auth/v1/") || r.path.starts_with("/rest/v1/") ||
                r.path.starts_with("/.well-known/"))
        << r.path;
  }
  EXPECT_GE(names.size(), 16u);
}

TEST(RouteSpecs, AdminRowsAreWellFormedAndTakeNoProjectPrincipal) {
  std::set<std::string> names;
  expect_well_formed(Surface::admin, admin_route_specs(), names);
  for (const RouteSpec& r : admin_route_specs()) {
    SCOPED_TRACE(std::string(r.name));
    EXPECT_FALSE(is_project_access(r.access)) << "no admin route takes a project key or user";
    EXPECT_EQ(r.cors, CorsPolicy::same_origin) << "never the project API's permissive CORS";
    EXPECT_TRUE(r.name.starts_with("admin.")) << "metrics tell the surfaces apart";
  }
}

TEST(RouteSpecs, NamesAreUniqueAcrossSurfaces) {
  std::set<std::string> names;
  expect_well_formed(Surface::project, project_route_specs(), names);
  expect_well_formed(Surface::admin, admin_route_specs(), names);
  expect_well_formed(Surface::operations, operations_route_specs(), names);
}

// The operations surface (metrics, probes) takes no caller at all: a row
// that wants one is refused there.
TEST(RouteSpecs, OperationsRowsTakeNobody) {
  for (const RouteSpec& r : operations_route_specs()) {
    SCOPED_TRACE(std::string(r.name));
    EXPECT_EQ(r.access, Access::none);
    EXPECT_EQ(r.cors, CorsPolicy::same_origin);
    EXPECT_TRUE(r.name.starts_with("ops."));
  }
  for (const RouteSpec& r : admin_route_specs()) {
    if (r.access != Access::none) {
      EXPECT_THROW(check_route_spec(Surface::operations, r), std::logic_error) << r.name;
    }
  }
}

TEST(RouteSpecs, TheCheckRefusesMisfitRows) {
  // A project-user row on the admin surface, an admin row on the project
  // surface, a missing rate class, a body on a GET: each is refused at
  // start-up (register_*_routes throws), so authd never serves it.
  for (const RouteSpec& r : project_route_specs()) {
    if (r.access == Access::project_user) {
      EXPECT_THROW(check_route_spec(Surface::admin, r), std::logic_error);
      RouteSpec unset = r;
      unset.rate = RateClass::unset;
      EXPECT_THROW(check_route_spec(Surface::project, unset), std::logic_error);
      RouteSpec misfit = r;
      misfit.access = Access::api_key;  // a user flow where an open flow belongs
      EXPECT_THROW(check_route_spec(Surface::project, misfit), std::logic_error);
      break;
    }
  }
  for (const RouteSpec& r : admin_route_specs()) {
    if (r.access == Access::admin) {
      EXPECT_THROW(check_route_spec(Surface::project, r), std::logic_error);
      RouteSpec body = r;
      body.method = "GET";
      body.body_limit = 10;
      EXPECT_THROW(check_route_spec(Surface::admin, body), std::logic_error);
      RouteSpec cors = r;
      cors.cors = CorsPolicy::project_origins;
      EXPECT_THROW(check_route_spec(Surface::admin, cors), std::logic_error);
      break;
    }
  }
}

TEST(RouteSpecs, WhatAnonymousCallersReachIsShort) {
  // Without a key: verifying a mailed code, the public keys, health and
  // CORS preflights. Everything else needs the project's key, and the
  // user's own routes a signed-in user of this project.
  std::set<std::string> open;
  std::set<std::string> users;
  for (const RouteSpec& r : project_route_specs()) {
    if (r.access == Access::none) {
      open.insert(std::string(r.name));
    }
    if (r.access == Access::project_user || r.access == Access::project_user_aal2) {
      users.insert(std::string(r.name));
    }
  }
  EXPECT_EQ(open, (std::set<std::string>{"verify", "jwks", "health", "auth.preflight", "rest.preflight", "assetlinks",
                                         "apple_app_site_association"}));
  EXPECT_EQ(users, (std::set<std::string>{"user.get", "user.update", "reauthenticate", "logout", "factors.enroll",
                                          "factors.challenge", "factors.verify", "factors.unenroll",
                                          "factors.recovery_codes.regenerate", "passkeys.registration.options",
                                          "passkeys.registration.verify", "passkeys.list", "passkeys.rename",
                                          "passkeys.revoke"}));
  // On the admin surface: signing in (by password, passkey, second factor
  // or a social provider's redirect), its public keys and health.
  std::set<std::string> admin_open;
  for (const RouteSpec& r : admin_route_specs()) {
    if (r.access == Access::none) {
      admin_open.insert(std::string(r.name));
    }
  }
  EXPECT_EQ(admin_open, (std::set<std::string>{"admin.token", "admin.mfa.verify", "admin.jwks", "admin.health",
                                               "admin.passkeys.authentication.options",
                                               "admin.passkeys.authentication.verify", "admin.authorize",
                                               "admin.callback"}));
}

}  // namespace
}  // namespace orbitnest::authd
