#pragma once
// The route table: method + path pattern → handler, and whether the
// handler blocks (Postgres, Argon2id, keyd) and so must run on the
// bounded worker pool instead of an I/O thread.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
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
  std::string name = {};  // for logs and metrics; the path when empty
  // The largest body this route reads, checked once the header is in and
  // before the body is read (never above http.body_limit_bytes); 0: none.
  std::optional<std::size_t> body_limit = std::nullopt;
};

struct RouteMatch {
  const Route* route = nullptr;
  // A route other than OPTIONS exists for the path, not for the method
  // (405). CORS preflight routes end in "*" and match every path below
  // them; they alone make no path known, or every typo would be a 405.
  bool path_known = false;
  std::string allow;  // with path_known: the path's methods, for Allow
};

// Renders the 404 and 405 answers in the shape the request asked for
// (authd's render_error; the HTTP layer does not know the API's shapes).
using ErrorRenderer = Response (*)(const Request& req, int status, std::string_view code, std::string_view message);

class RouteTable final {
 public:
  void add(Route route);
  RouteMatch match(const std::string& method, const std::string& path) const;

  void set_error_renderer(ErrorRenderer renderer) { m_render_error = renderer; }
  // 404 or 405 (with Allow) for a request that matched no route.
  Response no_route(const Request& req, const RouteMatch& match) const;

 private:
  static bool path_matches(const std::string& pattern, const std::string& path);
  std::vector<Route> m_routes;
  ErrorRenderer m_render_error = nullptr;
};

}  // namespace orbitnest::authd
