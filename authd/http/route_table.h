#pragma once
// The route table: method + path pattern → handler, and whether the
// handler blocks (Postgres, Argon2id, keyd) and so must run on the
// bounded worker pool instead of an I/O thread.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "authd/http/http_types.h"

namespace orbitnest::authd {

// inline_io: cheap, on the I/O thread. blocking: the worker pool.
// password: a pool of its own for requests that mostly wait for Argon2id,
// so that a sign-in flood queues there and never takes the workers that
// refreshes and the rest of the API need.
enum class Execution { inline_io, blocking, password };

using Handler = std::function<Response(const Request&)>;

struct Route {
  std::string method;
  std::string path;  // exact path; "{ref}" matches one segment, a final "*" any rest
  Execution execution;
  Handler handler;
  // When set, picks the execution per request instead (POST /token: a
  // password grant hashes, a refresh does not).
  Execution (*execution_for)(const Request&) = nullptr;
};

struct RouteMatch {
  const Route* route = nullptr;
  bool path_known = false;  // a route exists for the path, not the method (405)
};

class RouteTable final {
 public:
  void add(Route route);
  RouteMatch match(const std::string& method, const std::string& path) const;

 private:
  static bool path_matches(const std::string& pattern, const std::string& path);
  std::vector<Route> m_routes;
};

}  // namespace orbitnest::authd
