// Walks the project surface's route table: every row is well formed and
// says who may call it, what budget it counts against and how much body it
// reads — the policy a reader sees at a glance, checked here.
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "authd/flows/project_routes.h"

namespace orbitnest::authd {
namespace {

TEST(ProjectRouteSpecs, EveryRowIsWellFormed) {
  std::set<std::string> names;
  std::set<std::string> method_paths;
  for (const ProjectRouteSpec& r : project_route_specs()) {
    SCOPED_TRACE(std::string(r.name));
    EXPECT_TRUE(names.insert(std::string(r.name)).second) << "names are unique";
    EXPECT_TRUE(method_paths.insert(std::string(r.method) + " " + std::string(r.path)).second);
    EXPECT_NE(r.rate, RateClass::unset) << "a rate class, or an explicit none";
    // A flow that fits the access: a route for signed-in users is handed
    // the user, and only such a route is.
    EXPECT_EQ(r.user_flow != nullptr, r.access == Access::project_user);
    EXPECT_EQ(r.open_flow != nullptr, r.access != Access::project_user);
    if (r.method == "GET" || r.method == "OPTIONS") {
      EXPECT_EQ(r.body_limit, kNoBody) << "reads no body";
    } else {
      EXPECT_GT(r.body_limit, kNoBody);
      EXPECT_LE(r.body_limit, std::size_t{64 * 1024});
    }
    // The error shape follows the surface its client library parses.
    EXPECT_EQ(r.errors, r.path.starts_with("/rest/v1/") ? ErrorShape::postgrest : ErrorShape::gotrue_legacy);
    EXPECT_TRUE(r.path.starts_with("/auth/v1/") || r.path.starts_with("/rest/v1/")) << r.path;
  }
  EXPECT_GE(names.size(), 16u);
}

TEST(ProjectRouteSpecs, WhatAnonymousCallersReachIsShort) {
  // Without a key: verifying a mailed code, the public keys, health and
  // CORS preflights. Everything else needs the project's key, and the
  // user's own routes a signed-in user of this project.
  std::set<std::string> open;
  std::set<std::string> users;
  for (const ProjectRouteSpec& r : project_route_specs()) {
    if (r.access == Access::open) {
      open.insert(std::string(r.name));
    }
    if (r.access == Access::project_user) {
      users.insert(std::string(r.name));
    }
  }
  EXPECT_EQ(open, (std::set<std::string>{"verify", "jwks", "health", "auth.preflight", "rest.preflight"}));
  EXPECT_EQ(users, (std::set<std::string>{"user.get", "user.update", "reauthenticate", "logout"}));
}

}  // namespace
}  // namespace orbitnest::authd
