#include <gtest/gtest.h>

#include "authd/http/route_table.h"

namespace orbitnest::authd {
namespace {

TEST(RouteTable, MatchesExactAndParameterisedPaths) {
  RouteTable t;
  t.add({"GET", "/auth/v1/health", Execution::blocking, [](const Request&) { return Response{}; }});
  t.add({"POST", "/projects/{ref}/auth/v1/token", Execution::blocking, [](const Request&) { return Response{}; }});
  EXPECT_NE(t.match("GET", "/auth/v1/health").route, nullptr);
  EXPECT_EQ(t.match("GET", "/auth/v1/health/").route, nullptr);
  const RouteMatch wrong_method = t.match("POST", "/auth/v1/health");
  EXPECT_EQ(wrong_method.route, nullptr);
  EXPECT_TRUE(wrong_method.path_known);
  EXPECT_NE(t.match("POST", "/projects/abc/auth/v1/token").route, nullptr);
  EXPECT_EQ(t.match("POST", "/projects//auth/v1/token").route, nullptr);
  EXPECT_EQ(t.match("POST", "/projects/a/b/auth/v1/token").route, nullptr);
  EXPECT_FALSE(t.match("GET", "/nothing").path_known);
}

}  // namespace
}  // namespace orbitnest::authd
