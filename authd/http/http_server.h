#pragma once
// authd's HTTPS server (Boost.Beast, modelled on Beast's advanced server):
// an acceptor, one strand per connection, a fresh parser per request with
// header/body limits and a deadline on every read, write, handshake and
// shutdown, and a graceful drain. This header hides Beast and Asio from the
// rest of authd; all their templates instantiate in http_server.cpp.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "authd/blocking_pool.h"
#include "authd/http/route_table.h"
#include "config/authd_config.h"

namespace orbitnest::authd {

// One listening socket and the routes it serves: each surface (project
// API, admin API) has its own, so a route of one is never reachable on the
// other's port. Connection limits count across all of them.
struct HttpListener {
  std::string name;  // "api", "admin": for logs
  std::string address;
  int port = 0;
  const RouteTable* routes = nullptr;
  bool systemd_socket = false;  // takes the socket systemd passed, if any
  // > 0: this many connections of its own (per client address too), apart
  // from http.max_connections; 0: it shares those.
  int reserved_connections = 0;
};

// One answered request, for metrics: the listener, the route's name (""
// when no route matched), the status and the time from reading to answer.
struct RequestObservation {
  std::string_view listener;
  std::string_view route;
  int status;
  double seconds;
};

class HttpServer final {
 public:
  HttpServer(const config::AuthdConfig& cfg, std::vector<HttpListener> listeners, BlockingPool& pool,
             BlockingPool& password_pool);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Called on an I/O thread for every answer sent; set before run().
  void set_request_observer(std::function<void(const RequestObservation&)> observer);
  // SIGHUP calls `reload` (on an I/O thread; set before run()). Without
  // one, SIGHUP reloads the TLS files only.
  void set_reload_handler(std::function<void()> reload);
  // Serve with `next` from the next connection and request on: TLS files,
  // connection limits, timeouts, body and header limits, queue waits.
  // Throws (changing nothing) when the TLS files do not load. Connections
  // open now are not dropped; each keeps the TLS context it began with.
  void apply(std::shared_ptr<const config::AuthdConfig> next);
  // Binds (or takes the socket systemd passed). Throws on failure.
  void listen();
  // Runs the I/O threads until drained; `on_tick` runs on an I/O thread
  // every `tick` (the watchdog and readiness checks hang off it).
  void run(std::chrono::milliseconds tick, std::function<void()> on_tick);
  // Stop accepting, let requests in flight finish, close idle connections,
  // return from run() once all are gone or the drain timeout passed.
  void drain();

 private:
  struct Impl;
  std::unique_ptr<Impl> m_impl;
};

}  // namespace orbitnest::authd
