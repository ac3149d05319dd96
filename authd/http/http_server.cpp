#include "authd/http/http_server.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <malloc.h>

#include <sys/socket.h>

#include <array>
#include <charconv>
#include <cerrno>
#include <atomic>
#include <chrono>
#include <csignal>
#include <list>
#include <mutex>
#include <random>
#include <thread>

#include "authd/http/connection_limiter.h"
#include "authd/http/log_throttle.h"
#include "authd/http/tls_context.h"
#include "config/authd_config.h"
#include "systemd/listen_fds.h"
#include "systemd/log.h"
#include "systemd/notify.h"

namespace orbitnest::authd {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

std::string new_request_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr std::array<char, 16> kHex = {'0', '1', '2', '3', '4', '5', '6', '7',
                                                '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
  std::string id(16, '0');
  std::uint64_t v = rng();
  for (char& c : id) {
    c = kHex[v & 0xf];
    v >>= 4;
  }
  return id;
}

// The answer when the workers cannot take a request, or took it too late.
Response over_capacity() {
  Response r = json_error(503, "over_capacity", "server is busy, retry shortly");
  r.headers.emplace_back("Retry-After", "1");
  return r;
}

// The request log line keeps this much of a path: anyone can send 8 KB
// of path, and the log must not grow by that per request.
constexpr std::size_t kMaxLoggedPath = 256;

std::string loggable_path(const std::string& path) {
  if (path.size() <= kMaxLoggedPath) {
    return path;
  }
  return path.substr(0, kMaxLoggedPath) + "...(" + std::to_string(path.size()) + " bytes)";
}

// Resources, not the peer: retrying at once would spin (issue 10, item 8).
bool out_of_resources(const beast::error_code& ec) {
  return ec == net::error::no_descriptors || ec == beast::errc::too_many_files_open_in_system ||
         ec == net::error::no_buffer_space || ec == net::error::no_memory;
}

// Freed memory goes back to the system after this many connections
// closed (and at least half of the peak): idle floods are bursts.
constexpr int kTrimAfterCloses = 256;

}  // namespace

struct HttpServer::Impl {
  class Session;

  // One per listening socket: the project API's, the admin API's.
  struct Listener {
    Listener(net::io_context& ioc, HttpListener s, ConnectionLimiter& shared)
        : spec(std::move(s)),
          own_limiter(spec.reserved_connections > 0
                           ? std::make_unique<ConnectionLimiter>(spec.reserved_connections, spec.reserved_connections)
                           : nullptr),
          limiter(own_limiter ? *own_limiter : shared),
          acceptor(ioc),
          accept_timer(ioc) {}
    HttpListener spec;
    // A listener with reserved connections counts them apart: a flood on
    // the public port cannot take the admins' way in.
    std::unique_ptr<ConnectionLimiter> own_limiter;
    ConnectionLimiter& limiter;
    tcp::acceptor acceptor;
    // After accept() failed for lack of resources: 50 ms, doubling to 1 s.
    net::steady_timer accept_timer;
    std::chrono::milliseconds accept_backoff{0};
  };

  Impl(const config::AuthdConfig& c, BlockingPool& p, BlockingPool& pp)
      : current_cfg(std::make_shared<const config::AuthdConfig>(c)), pool(p), password_pool(pp),
        limiter(c.http.max_connections, c.http.max_connections_per_ip),
        tls(std::make_shared<ssl::context>(make_tls_context(c.tls))), ioc(c.http.io_threads),
        signals(ioc, SIGTERM, SIGINT), reload_signal(ioc, SIGHUP), tick_timer(ioc), drain_timer(ioc) {}

  // Declared before ioc so that they outlive it: sessions still owned by
  // pending handlers are destroyed with ioc and touch these on the way.
  // The configuration in force: replaced whole by apply() (a reload);
  // readers take a reference-counted copy, so a request never sees half.
  std::mutex cfg_mutex;
  std::shared_ptr<const config::AuthdConfig> current_cfg;
  std::shared_ptr<const config::AuthdConfig> config() {
    const std::lock_guard lock(cfg_mutex);
    return current_cfg;
  }
  std::function<void()> on_reload;
  BlockingPool& pool;
  BlockingPool& password_pool;
  std::atomic<bool> draining{false};
  ConnectionLimiter limiter;
  LogThrottle accept_failed_log{std::chrono::seconds(10)};
  LogThrottle refused_log{std::chrono::seconds(10)};
  std::mutex sessions_mutex;
  std::list<std::weak_ptr<Session>> sessions;
  std::chrono::milliseconds tick{1000};
  std::function<void()> on_tick;
  std::function<void(const RequestObservation&)> observer;
  // Replaced on SIGHUP; each connection keeps the context it started with.
  std::mutex tls_mutex;
  std::shared_ptr<ssl::context> tls;
  net::io_context ioc;
  std::vector<std::unique_ptr<Listener>> listeners;
  net::signal_set signals;
  net::signal_set reload_signal;
  net::steady_timer tick_timer;
  net::steady_timer drain_timer;

  void do_accept(Listener& l);
  void on_accept_failed(Listener& l, const beast::error_code& ec);
  void wait_for_reload();
  std::shared_ptr<ssl::context> current_tls() {
    const std::lock_guard lock(tls_mutex);
    return tls;
  }
  void schedule_tick();
  int open_connections() const {
    int n = limiter.open();
    for (const std::unique_ptr<Listener>& l : listeners) {
      n += l->own_limiter ? l->own_limiter->open() : 0;
    }
    return n;
  }
  void start_drain();
  void check_drained();
};

// A connection owns no TLS state until its client sends a first byte: an
// idle socket costs its file descriptor and this object, not the ~100 KB
// of a TLS stream. The handshake deadline covers the wait and the
// handshake; the request deadline a whole request, from its first byte.
class HttpServer::Impl::Session : public std::enable_shared_from_this<HttpServer::Impl::Session> {
 public:
  Session(Impl& server, const HttpListener& listener, tcp::socket&& socket, ConnectionLimiter::Slot slot,
          std::string remote, std::string network)
      : m_server(server), m_routes(*listener.routes), m_listener(listener.name), m_slot(std::move(slot)), m_tcp(std::move(socket)), m_first_byte_timer(m_tcp.get_executor()),
        m_remote(std::move(remote)), m_network(std::move(network)) {}

  ~Session() {
    if (m_server.draining.load() && !m_server.ioc.stopped()) {
      net::post(m_server.ioc, [s = &m_server] { s->check_drained(); });
    }
  }

  void run() {
    net::dispatch(m_tcp.get_executor(), [self = shared_from_this()] {
      self->m_handshake_deadline =
          std::chrono::steady_clock::now() + std::chrono::seconds(self->m_server.config()->http.handshake_timeout_seconds);
      self->m_first_byte_timer.expires_at(self->m_handshake_deadline);
      self->m_first_byte_timer.async_wait([self](beast::error_code ec) {
        if (!ec && !self->m_stream) {
          self->m_tcp.cancel();  // nothing sent in time
        }
      });
      self->wait_for_first_byte();
    });
  }

  // Called on our strand during a drain: an idle connection closes now.
  void close_if_idle() {
    if (!m_in_request) {
      m_first_byte_timer.cancel();
      tcp().cancel();
    }
  }

  net::any_io_executor executor() { return m_tcp.get_executor(); }

 private:
  beast::tcp_stream& tcp() { return m_stream ? m_stream->next_layer() : m_tcp; }

  void wait_for_first_byte() {
    m_tcp.socket().async_wait(tcp::socket::wait_read, [self = shared_from_this()](beast::error_code ec) {
      if (ec || self->m_server.draining.load()) {
        self->m_first_byte_timer.cancel();
        return;  // the socket closes with the session
      }
      // Readable: a byte, or the peer's close. A wake-up with neither (the
      // reactor may report readiness early) waits again, under the same
      // deadline, rather than closing a client mid-connect.
      char probe = 0;
      const ssize_t n = ::recv(self->m_tcp.socket().native_handle(), &probe, 1, MSG_PEEK | MSG_DONTWAIT);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
        return self->wait_for_first_byte();
      }
      self->m_first_byte_timer.cancel();
      if (n <= 0) {
        return;  // closed without a word, or an error
      }
      self->start_tls();
    });
  }

  void start_tls() {
    m_tls = m_server.current_tls();
    m_stream.emplace(std::move(m_tcp), *m_tls);
    tcp().expires_at(m_handshake_deadline);
    m_stream->async_handshake(ssl::stream_base::server, [self = shared_from_this()](beast::error_code ec) {
      if (ec) {
        log::debug("authd.tls_handshake_failed", {{"remote", self->m_remote}, {"reason", ec.message()}});
        return;
      }
      self->do_read();
    });
  }

  void do_read() {
    if (m_server.draining.load()) {
      return do_close();
    }
    m_cfg = m_server.config();  // one copy per request: a reload applies from the next
    m_parser.emplace();
    m_parser->header_limit(static_cast<std::uint32_t>(m_cfg->http.header_limit_bytes));
    m_parser->body_limit(static_cast<std::uint64_t>(m_cfg->http.body_limit_bytes));
    m_in_request = false;
    if (m_requests == 0 || m_buffer.size() > 0) {
      return read_request();  // the first request, or one already pipelined
    }
    // Keep-alive: the idle timeout lasts until the next request's first
    // byte; from there read_request()'s deadline covers the whole request,
    // so trickling it a byte at a time buys no more time.
    m_buffer.shrink_to_fit();
    tcp().expires_after(std::chrono::seconds(m_cfg->http.idle_timeout_seconds));
    m_stream->async_read_some(m_buffer.prepare(kFirstReadBytes),
                              [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                                if (ec) {
                                  return self->on_read(ec);
                                }
                                self->m_buffer.commit(n);
                                self->read_request();
                              });
  }

  // The header first: its route says how large a body it takes, and a
  // larger one is refused (413) before it is read.
  void read_request() {
    tcp().expires_after(std::chrono::seconds(m_cfg->http.read_timeout_seconds));
    http::async_read_header(*m_stream, m_buffer, *m_parser,
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec) {
                                return self->on_read(ec);
                              }
                              if (!self->match_route()) {
                                return self->on_read(http::error::body_limit);
                              }
                              http::async_read(*self->m_stream, self->m_buffer, *self->m_parser,
                                               [self](beast::error_code read_ec, std::size_t) { self->on_read(read_ec); });
                            });
  }

  // Matched once, from the header: the route bounds the body, then
  // dispatch() runs it. False when the declared Content-Length is already
  // over the route's limit (Beast compares it with body_limit only while
  // parsing the header, before this runs; a chunked body is checked as it
  // is read).
  bool match_route() {
    const auto& header = m_parser->get();
    const std::string_view target = header.target();
    m_match = m_routes.match(std::string(header.method_string()),
                                    std::string(target.substr(0, target.find('?'))));
    if (m_match.route == nullptr || !m_match.route->body_limit) {
      return true;
    }
    const std::uint64_t limit = static_cast<std::uint64_t>(
        std::min<std::size_t>(*m_match.route->body_limit, static_cast<std::size_t>(m_cfg->http.body_limit_bytes)));
    m_parser->body_limit(limit);
    // The field as Beast validated it (its content_length() accessor trips
    // GCC 12's -Wmaybe-uninitialized in the sanitizer build).
    const auto field = header.find(http::field::content_length);
    if (field == header.end()) {
      return true;
    }
    const std::string_view text = field->value();
    std::uint64_t declared = 0;
    const auto [end, err] = std::from_chars(text.data(), text.data() + text.size(), declared);
    return err == std::errc() && declared <= limit;
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == net::error::operation_aborted || ec == beast::error::timeout) {
      return do_close();
    }
    if (ec == http::error::body_limit) {
      return reject(413, "request_too_large", "request body exceeds the limit");
    }
    if (ec == http::error::header_limit) {
      return reject(431, "request_header_fields_too_large", "request headers exceed the limit");
    }
    if (ec == ssl::error::stream_truncated || ec == net::error::eof || ec == net::error::connection_reset) {
      return;  // peer went away
    }
    if (ec) {
      return reject(400, "bad_request", "malformed HTTP request");
    }
    m_in_request = true;
    ++m_requests;
    http::request<http::string_body> msg = m_parser->release();
    m_keep_alive = msg.keep_alive();

    Request req;
    req.method = std::string(msg.method_string());
    const std::string_view target = msg.target();
    const std::size_t q = target.find('?');
    req.path = std::string(target.substr(0, q));
    req.query = q == std::string_view::npos ? std::string() : std::string(target.substr(q + 1));
    for (const auto& field : msg) {
      req.headers.emplace(std::string(field.name_string()), std::string(field.value()));
    }
    req.body = std::move(msg.body());
    req.request_id = new_request_id();
    req.remote_address = m_remote;
    req.remote_network = m_network;
    req.received_at = std::chrono::steady_clock::now();
    dispatch(std::move(req));
  }

  void dispatch(Request req) {
    const RouteMatch match = std::move(m_match);
    if (match.route == nullptr) {
      return send(req, m_routes.no_route(req, match));
    }
    req.route_name = match.route->name.empty() ? match.route->path : match.route->name;
    const Execution execution =
        match.route->execution_for != nullptr ? match.route->execution_for(req) : match.route->execution;
    if (execution == Execution::inline_io) {
      return send(req, match.route->handler(req));
    }
    auto shared_req = std::make_shared<Request>(std::move(req));
    const Handler* handler = &match.route->handler;
    // Sign-ins wait their turn for a hash anyway (the hasher bounds that
    // wait); other requests are refused rather than served late.
    const auto max_wait = execution == Execution::password
                              ? std::chrono::milliseconds(2000)
                              : std::chrono::milliseconds(m_cfg->workers.max_queue_wait_ms);
    BlockingPool& workers = execution == Execution::password ? m_server.password_pool : m_server.pool;
    const auto answer = [self = shared_from_this(), shared_req](Response r) {
      net::post(self->executor(), [self, shared_req, r = std::move(r)]() mutable { self->send(*shared_req, std::move(r)); });
    };
    const bool queued = workers.try_submit(
        [shared_req, handler, answer] {
          Response r;
          try {
            r = (*handler)(*shared_req);
          } catch (const std::exception& e) {
            log::error("authd.handler_failed", {{"request_id", shared_req->request_id}, {"reason", e.what()}});
            r = json_error(500, "unexpected_failure", "internal error");
          }
          answer(std::move(r));
        },
        max_wait,
        // Too late to be useful: the client is better off retrying.
        [answer] { answer(over_capacity()); });
    if (!queued) {
      send(*shared_req, over_capacity());
    }
  }

  void reject(int status, std::string_view code, std::string_view message) {
    m_keep_alive = false;
    m_in_request = true;
    // The client may still be sending the rest: read and drop it after the
    // answer (a lingering close), or the kernel's reset could destroy the
    // answer before the client reads it.
    m_linger = true;
    Request req;
    req.method = "-";
    if (m_parser && m_parser->is_header_done()) {
      req.method = std::string(m_parser->get().method_string());
      const std::string_view target = m_parser->get().target();
      req.path = std::string(target.substr(0, target.find('?')));
    }
    req.request_id = new_request_id();
    send(req, json_error(status, code, message));
  }

  void do_linger() {
    if (!m_discard) {
      m_discard = std::make_unique<std::array<char, 16384>>();
    }
    tcp().expires_after(std::chrono::seconds(2));
    m_stream->async_read_some(net::buffer(*m_discard), [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      self->m_lingered += n;
      if (ec || self->m_lingered > kMaxLingerBytes) {
        return self->do_close();
      }
      self->do_linger();
    });
  }

  void send(const Request& req, Response r) {
    auto res = std::make_shared<http::response<http::string_body>>(static_cast<http::status>(r.status), 11);
    res->set(http::field::server, "OrbitNest-Auth");
    res->set(http::field::content_type, r.content_type);
    res->set("X-Request-Id", req.request_id);
    res->set("X-Content-Type-Options", "nosniff");
    res->set(http::field::strict_transport_security, "max-age=31536000");
    for (auto& [name, value] : r.headers) {
      res->set(name, value);
    }
    res->body() = std::move(r.body);
    res->keep_alive(m_keep_alive && !m_server.draining.load());
    res->prepare_payload();
    if (m_server.observer) {
      const double seconds = req.received_at == std::chrono::steady_clock::time_point{}
                                 ? 0.0
                                 : std::chrono::duration<double>(std::chrono::steady_clock::now() - req.received_at).count();
      m_server.observer(RequestObservation{m_listener, req.route_name, r.status, seconds});
    }
    log::info("authd.request", {{"request_id", req.request_id},
                                {"method", req.method},
                                {"path", loggable_path(req.path)},
                                {"status", r.status},
                                {"remote", m_remote}});
    tcp().expires_after(std::chrono::seconds(m_cfg->http.read_timeout_seconds));
    http::async_write(*m_stream, *res, [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
      if (ec) {
        return;
      }
      if (self->m_linger) {
        return self->do_linger();
      }
      if (!res->keep_alive()) {
        return self->do_close();
      }
      self->do_read();
    });
  }

  void do_close() {
    tcp().expires_after(std::chrono::seconds(5));
    m_stream->async_shutdown([self = shared_from_this()](beast::error_code) { self->tcp().close(); });
  }

  Impl& m_server;
  const RouteTable& m_routes;  // the routes of the listener that accepted it
  std::string_view m_listener;  // its name
  ConnectionLimiter::Slot m_slot;       // the place this connection takes, given back with it
  std::shared_ptr<ssl::context> m_tls;  // outlives m_stream, which refers to it
  beast::tcp_stream m_tcp;              // moved into m_stream once the client speaks
  std::optional<beast::ssl_stream<beast::tcp_stream>> m_stream;
  net::steady_timer m_first_byte_timer;
  std::chrono::steady_clock::time_point m_handshake_deadline;
  beast::flat_buffer m_buffer;
  std::optional<http::request_parser<http::string_body>> m_parser;
  std::shared_ptr<const config::AuthdConfig> m_cfg;  // the configuration this request is served under
  std::string m_remote;
  std::string m_network;  // what per-client limits count by
  RouteMatch m_match;     // the current request's, from its header
  bool m_keep_alive = false;
  bool m_in_request = false;
  bool m_linger = false;
  std::size_t m_lingered = 0;
  static constexpr std::size_t kMaxLingerBytes = 1024 * 1024;
  static constexpr std::size_t kFirstReadBytes = 1024;
  std::unique_ptr<std::array<char, 16384>> m_discard;  // only while lingering
  unsigned m_requests = 0;
};

void HttpServer::Impl::do_accept(Listener& l) {
  l.acceptor.async_accept(net::make_strand(ioc), [this, &l](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      return on_accept_failed(l, ec);
    }
    l.accept_backoff = std::chrono::milliseconds(0);
    beast::error_code remote_ec;
    const tcp::endpoint remote = socket.remote_endpoint(remote_ec);
    if (remote_ec) {
      return do_accept(l);  // gone already
    }
    ConnectionLimiter::Refusal refusal = ConnectionLimiter::Refusal::none;
    ConnectionLimiter::Slot slot = l.limiter.acquire(remote.address(), &refusal);
    if (!slot) {
      std::int64_t suppressed = 0;
      if (refused_log.should_log(&suppressed)) {
        const bool total = refusal == ConnectionLimiter::Refusal::total;
        log::warning("authd.too_many_connections",
                     {{"limit", total ? config()->http.max_connections : config()->http.max_connections_per_ip},
                      {"scope", total ? "all" : "address"},
                      {"remote", remote.address().to_string()},
                      {"suppressed", suppressed}});
      }
      return do_accept(l);  // socket closes as it goes out of scope
    }
    auto session = std::make_shared<Session>(*this, l.spec, std::move(socket), std::move(slot),
                                             remote.address().to_string(),
                                             ConnectionLimiter::network_name(remote.address()));
    {
      const std::lock_guard lock(sessions_mutex);
      sessions.remove_if([](const std::weak_ptr<Session>& w) { return w.expired(); });
      sessions.push_back(session);
    }
    session->run();
    do_accept(l);
  });
}

void HttpServer::Impl::on_accept_failed(Listener& l, const beast::error_code& ec) {
  if (ec == net::error::operation_aborted || draining.load()) {
    return;
  }
  const bool back_off = out_of_resources(ec);
  if (back_off) {
    l.accept_backoff =
        std::clamp(l.accept_backoff * 2, std::chrono::milliseconds(50), std::chrono::milliseconds(1000));
  }
  std::int64_t suppressed = 0;
  if (accept_failed_log.should_log(&suppressed)) {
    log::warning("authd.accept_failed", {{"reason", ec.message()},
                                         {"retry_ms", back_off ? l.accept_backoff.count() : 0},
                                         {"listener", l.spec.name},
                                         {"connections", open_connections()},
                                         {"suppressed", suppressed}});
  }
  if (!back_off) {
    return do_accept(l);  // the peer's problem (it reset): the next one is fine
  }
  l.accept_timer.expires_after(l.accept_backoff);
  l.accept_timer.async_wait([this, &l](beast::error_code timer_ec) {
    if (!timer_ec && !draining.load()) {
      do_accept(l);
    }
  });
}

void HttpServer::set_reload_handler(std::function<void()> reload) { m_impl->on_reload = std::move(reload); }

void HttpServer::apply(std::shared_ptr<const config::AuthdConfig> next) {
  auto fresh = std::make_shared<ssl::context>(make_tls_context(next->tls));  // throws: nothing changed
  {
    const std::lock_guard lock(m_impl->tls_mutex);
    m_impl->tls = std::move(fresh);
  }
  m_impl->limiter.set_limits(next->http.max_connections, next->http.max_connections_per_ip);
  const std::lock_guard lock(m_impl->cfg_mutex);
  m_impl->current_cfg = std::move(next);
}

void HttpServer::set_request_observer(std::function<void(const RequestObservation&)> observer) {
  m_impl->observer = std::move(observer);
}

void HttpServer::Impl::wait_for_reload() {
  reload_signal.async_wait([this](beast::error_code ec, int) {
    if (ec) {
      return;
    }
    if (on_reload) {
      on_reload();
    } else {
      try {
        const std::shared_ptr<const config::AuthdConfig> same = config();
        auto fresh = std::make_shared<ssl::context>(make_tls_context(same->tls));
        {
          const std::lock_guard lock(tls_mutex);
          tls = std::move(fresh);
        }
        log::notice("authd.tls_reloaded", {{"cert_file", same->tls.cert_file}});
      } catch (const std::exception& e) {
        // Keep serving with the old certificate rather than not at all.
        log::error("authd.tls_reload_failed", {{"reason", e.what()}});
      }
    }
    wait_for_reload();
  });
}

void HttpServer::Impl::schedule_tick() {
  tick_timer.expires_after(tick);
  tick_timer.async_wait([this](beast::error_code ec) {
    if (ec || draining.load()) {
      return;
    }
    if (limiter.take_close_burst(kTrimAfterCloses)) {
      ::malloc_trim(0);  // glibc keeps freed heap otherwise; idle floods come in bursts
    }
    if (on_tick) {
      on_tick();
    }
    schedule_tick();
  });
}

void HttpServer::Impl::start_drain() {
  if (draining.exchange(true)) {
    return;
  }
  sd::notify_stopping();
  log::notice("authd.draining", {{"connections", open_connections()}});
  beast::error_code ignored;
  for (const std::unique_ptr<Listener>& l : listeners) {
    l->acceptor.close(ignored);
    l->accept_timer.cancel();
  }
  signals.cancel();
  reload_signal.cancel();
  tick_timer.cancel();
  {
    const std::lock_guard lock(sessions_mutex);
    for (const auto& weak : sessions) {
      if (auto s = weak.lock()) {
        net::post(s->executor(), [s] { s->close_if_idle(); });
      }
    }
  }
  drain_timer.expires_after(std::chrono::seconds(config()->http.drain_timeout_seconds));
  drain_timer.async_wait([this](beast::error_code ec) {
    if (!ec) {
      log::warning("authd.drain_timeout", {{"connections", open_connections()}});
      ioc.stop();
    }
  });
  check_drained();
}

void HttpServer::Impl::check_drained() {
  if (draining.load() && open_connections() == 0) {
    drain_timer.cancel();
    ioc.stop();
  }
}

HttpServer::HttpServer(const config::AuthdConfig& cfg, std::vector<HttpListener> listeners, BlockingPool& pool,
                       BlockingPool& password_pool)
    : m_impl(std::make_unique<Impl>(cfg, pool, password_pool)) {
  for (HttpListener& l : listeners) {
    m_impl->listeners.push_back(std::make_unique<Impl::Listener>(m_impl->ioc, std::move(l), m_impl->limiter));
  }
}

HttpServer::~HttpServer() = default;

void HttpServer::listen() {
  Impl& s = *m_impl;
  std::optional<UniqueFd> passed = sd::take_stream_listener();
  for (const std::unique_ptr<Impl::Listener>& l : s.listeners) {
    if (passed && l->spec.systemd_socket) {
      sockaddr_storage addr{};
      socklen_t len = sizeof(addr);
      ::getsockname(passed->get(), reinterpret_cast<sockaddr*>(&addr), &len);
      l->acceptor.assign(addr.ss_family == AF_INET6 ? tcp::v6() : tcp::v4(), passed->release());
      passed.reset();
      log::info("authd.listening", {{"listener", l->spec.name}, {"socket", "systemd"}});
      continue;
    }
    const tcp::endpoint ep(net::ip::make_address(l->spec.address), static_cast<unsigned short>(l->spec.port));
    l->acceptor.open(ep.protocol());
    l->acceptor.set_option(net::socket_base::reuse_address(true));
    l->acceptor.bind(ep);
    l->acceptor.listen(net::socket_base::max_listen_connections);
    log::info("authd.listening", {{"listener", l->spec.name}, {"address", l->spec.address}, {"port", l->spec.port}});
  }
}

void HttpServer::run(std::chrono::milliseconds tick, std::function<void()> on_tick) {
  Impl& s = *m_impl;
  s.tick = tick;
  s.on_tick = std::move(on_tick);
  s.signals.async_wait([&s](beast::error_code ec, int signo) {
    if (!ec) {
      log::notice("authd.stopping", {{"signal", signo}});
      s.start_drain();
    }
  });
  for (const std::unique_ptr<Impl::Listener>& l : s.listeners) {
    s.do_accept(*l);
  }
  s.wait_for_reload();
  s.schedule_tick();
  std::vector<std::thread> threads;
  for (int i = 1; i < s.config()->http.io_threads; ++i) {
    threads.emplace_back([&s] { s.ioc.run(); });
  }
  s.ioc.run();
  for (std::thread& t : threads) {
    t.join();
  }
}

void HttpServer::drain() {
  net::post(m_impl->ioc, [s = m_impl.get()] { s->start_drain(); });
}

}  // namespace orbitnest::authd
