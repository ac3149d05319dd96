#include "authd/http/route_table.h"

#include <string_view>

namespace orbitnest::authd {

void RouteTable::add(Route route) { m_routes.push_back(std::move(route)); }

bool RouteTable::path_matches(const std::string& pattern, const std::string& path) {
  std::string_view p(pattern);
  std::string_view s(path);
  while (!p.empty() && !s.empty()) {
    if (p == "*") {
      return true;  // a trailing "*" takes the rest of the path
    }
    if (p.starts_with("{")) {
      const std::size_t close = p.find('}');
      const std::size_t seg_end = s.find('/');
      const std::string_view segment = s.substr(0, seg_end);
      if (close == std::string_view::npos || segment.empty()) {
        return false;
      }
      p.remove_prefix(close + 1);
      s.remove_prefix(segment.size());
      continue;
    }
    if (p.front() != s.front()) {
      return false;
    }
    p.remove_prefix(1);
    s.remove_prefix(1);
  }
  return p.empty() && s.empty();
}

RouteMatch RouteTable::match(const std::string& method, const std::string& path) const {
  RouteMatch m;
  for (const Route& r : m_routes) {
    if (!path_matches(r.path, path)) {
      continue;
    }
    if (r.method == method) {
      m.route = &r;
      return m;
    }
    m.path_known = m.path_known || r.method != "OPTIONS";
    if (m.allow.find(r.method) == std::string::npos) {
      m.allow += (m.allow.empty() ? "" : ", ") + r.method;
    }
  }
  if (!m.path_known) {
    m.allow.clear();
  }
  return m;
}

Response RouteTable::no_route(const Request& req, const RouteMatch& match) const {
  const int status = match.path_known ? 405 : 404;
  const std::string_view code = match.path_known ? "method_not_allowed" : "not_found";
  const std::string_view message = match.path_known ? "method not allowed on this path" : "no such endpoint";
  Response r = m_render_error != nullptr ? m_render_error(req, status, code, message) : json_error(status, code, message);
  if (match.path_known) {
    r.headers.emplace_back("Allow", match.allow);
  }
  return r;
}

}  // namespace orbitnest::authd
