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

// Issue 10 item 17: a CORS preflight route ending in "*" matches every
// path below it, but makes none of them known: an unknown path is a 404,
// and 405 (with Allow) only where another method has a route.
TEST(RouteTable, PreflightWildcardMakesNoPathKnown) {
  RouteTable t;
  const auto ok = [](const Request&) { return Response{}; };
  t.add({"POST", "/projects/{ref}/auth/v1/signup", Execution::blocking, ok});
  t.add({"OPTIONS", "/projects/{ref}/auth/v1/*", Execution::inline_io, ok});
  const RouteMatch unknown = t.match("GET", "/projects/p/auth/v1/nothing");
  EXPECT_EQ(unknown.route, nullptr);
  EXPECT_FALSE(unknown.path_known);
  EXPECT_EQ(unknown.allow, "");
  const RouteMatch wrong_method = t.match("DELETE", "/projects/p/auth/v1/signup");
  EXPECT_TRUE(wrong_method.path_known);
  EXPECT_EQ(wrong_method.allow, "POST, OPTIONS");
  EXPECT_NE(t.match("OPTIONS", "/projects/p/auth/v1/nothing").route, nullptr) << "preflights still answer";

  Request req;
  req.path = "/projects/p/auth/v1/nothing";
  EXPECT_EQ(t.no_route(req, unknown).status, 404);
  const Response r405 = t.no_route(req, wrong_method);
  EXPECT_EQ(r405.status, 405);
  ASSERT_FALSE(r405.headers.empty());
  EXPECT_EQ(r405.headers.back(), (std::pair<std::string, std::string>{"Allow", "POST, OPTIONS"}));
  // The renderer picks the shape; the table only the status and code.
  t.set_error_renderer([](const Request&, int status, std::string_view code, std::string_view) {
    Response r;
    r.status = status;
    r.body = std::string(code);
    return r;
  });
  EXPECT_EQ(t.no_route(req, unknown).body, "not_found");
}

}  // namespace
}  // namespace orbitnest::authd
