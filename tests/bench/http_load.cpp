// A fixed-rate HTTPS load generator for authd (wrk2 is not in Debian):
// requests are scheduled at RATE per second whatever the answers, and each
// latency runs from the request's scheduled time, so a slow server shows
// in the figures instead of slowing the load (no coordinated omission).
//   http_load URL APIKEY RATE SECONDS CONNECTIONS SCENARIO [FILE]
// Scenarios:
//   refresh FILE  POST /token?grant_type=refresh_token, each connection
//                 chaining the refresh tokens it owns (FILE: one per line)
//   otp FILE      POST /otp, one address of FILE per request, each once
//   verify FILE   POST /verify type=email code 1234 (a debug project), one
//                 address of FILE per request, each used once
//   get PATH      GET PATH
// A refresh refused before it ran (503, 429) keeps its token for later; the
// refresh tokens that verify answers, or the live end of every refresh
// chain, are saved to $HTTP_LOAD_SAVE if set.
// Prints one line: offered and served rates, status counts, latency
// percentiles of the 2xx answers and of the rest from the scheduled time,
// and of the 2xx answers from the moment they were sent (the server's
// share, without the backlog of a schedule it could not keep).
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

struct Target {
  std::string host, port, path_prefix;
};

Target parse_url(const std::string& url) {  // https://host:port/prefix
  const std::string rest = url.substr(std::string("https://").size());
  const std::size_t slash = rest.find('/');
  const std::string hostport = rest.substr(0, slash);
  const std::size_t colon = hostport.find(':');
  return {hostport.substr(0, colon), colon == std::string::npos ? "443" : hostport.substr(colon + 1),
          slash == std::string::npos ? "" : rest.substr(slash)};
}

// One keep-alive TLS connection, blocking.
class Connection {
 public:
  Connection(SSL_CTX* ctx, const Target& t) {
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* ai = nullptr;
    if (getaddrinfo(t.host.c_str(), t.port.c_str(), &hints, &ai) != 0) {
      throw std::runtime_error("cannot resolve " + t.host);
    }
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> guard(ai, freeaddrinfo);
    m_fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (m_fd < 0 || connect(m_fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      throw std::runtime_error("cannot connect");
    }
    const int one = 1;
    setsockopt(m_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    m_ssl.reset(SSL_new(ctx));
    SSL_set_fd(m_ssl.get(), m_fd);
    SSL_set_tlsext_host_name(m_ssl.get(), t.host.c_str());
    if (SSL_connect(m_ssl.get()) != 1) {
      throw std::runtime_error("TLS handshake failed");
    }
  }
  ~Connection() {
    m_ssl.reset();
    if (m_fd >= 0) {
      close(m_fd);
    }
  }
  // Sends a request, returns {status, body}; status 0 on a broken connection.
  std::pair<int, std::string> exchange(const std::string& request) {
    if (SSL_write(m_ssl.get(), request.data(), static_cast<int>(request.size())) <= 0) {
      return {0, ""};
    }
    std::string in;
    std::size_t header_end = std::string::npos;
    char buf[16384];
    while (header_end == std::string::npos) {
      const int n = SSL_read(m_ssl.get(), buf, sizeof buf);
      if (n <= 0) {
        return {0, ""};
      }
      in.append(buf, static_cast<std::size_t>(n));
      header_end = in.find("\r\n\r\n");
    }
    std::size_t length = 0;
    const std::size_t cl = in.find("ontent-Length: ");
    if (cl != std::string::npos && cl < header_end) {
      length = std::strtoul(in.c_str() + cl + 15, nullptr, 10);
    }
    while (in.size() < header_end + 4 + length) {
      const int n = SSL_read(m_ssl.get(), buf, sizeof buf);
      if (n <= 0) {
        return {0, ""};
      }
      in.append(buf, static_cast<std::size_t>(n));
    }
    const int status = in.size() > 12 ? std::atoi(in.c_str() + 9) : 0;
    return {status, in.substr(header_end + 4, length)};
  }

 private:
  int m_fd = -1;
  std::unique_ptr<SSL, decltype(&SSL_free)> m_ssl{nullptr, SSL_free};
};

std::string json_field(const std::string& body, const std::string& name) {
  const std::string key = "\"" + name + "\":\"";
  const std::size_t at = body.find(key);
  if (at == std::string::npos) {
    return "";
  }
  const std::size_t start = at + key.size();
  return body.substr(start, body.find('"', start) - start);
}

std::vector<std::string> read_lines(const std::string& file) {
  std::vector<std::string> out;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) {
      out.push_back(line);
    }
  }
  return out;
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty()) {
    return 0;
  }
  const std::size_t i = std::min(v.size() - 1, static_cast<std::size_t>(p / 100.0 * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(i), v.end());
  return v[i];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 7) {
    std::fprintf(stderr, "usage: http_load URL APIKEY RATE SECONDS CONNECTIONS refresh|otp|verify FILE | get PATH\n");
    return 64;
  }
  const Target target = parse_url(argv[1]);
  const std::string apikey = argv[2];
  const double rate = std::atof(argv[3]);
  const double seconds = std::atof(argv[4]);
  const int connections = std::atoi(argv[5]);
  const std::string scenario = argv[6];
  const std::string arg = argc > 7 ? argv[7] : "";
  std::vector<std::string> items = scenario == "get" ? std::vector<std::string>{} : read_lines(arg);
  // HTTP_LOAD_SAVE=FILE: the refresh tokens of the sessions made (verify).
  const char* const save = std::getenv("HTTP_LOAD_SAVE");

  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);  // loopback, the bench's own certificate

  const auto interval = std::chrono::nanoseconds(static_cast<long long>(1e9 / rate));
  const Clock::time_point start = Clock::now() + std::chrono::milliseconds(200 + 4 * connections);
  const Clock::time_point end = start + std::chrono::nanoseconds(static_cast<long long>(seconds * 1e9));
  std::atomic<long long> next_slot{0};
  std::atomic<std::size_t> next_item{0};
  std::atomic<Clock::time_point> last_done{start};
  std::mutex results_mutex;
  std::vector<double> served_ms, rejected_ms, service_ms, refusal_ms;  // service, refusal: from send
  std::map<int, long> statuses;

  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      std::vector<std::string> mine;  // refresh tokens this connection chains
      if (scenario == "refresh") {
        for (std::size_t i = static_cast<std::size_t>(c); i < items.size(); i += static_cast<std::size_t>(connections)) {
          mine.push_back(items[i]);
        }
      }
      // Connected before the schedule starts: handshakes are not measured.
      std::unique_ptr<Connection> conn;
      try {
        conn = std::make_unique<Connection>(ctx.get(), target);
      } catch (const std::exception&) {
      }
      std::vector<double> ok, other, service, refusal;
      std::map<int, long> seen;
      std::vector<std::string> saved;
      for (;;) {
        const Clock::time_point slot = start + interval * next_slot.fetch_add(1);
        if (slot >= end) {
          break;
        }
        std::string body, request, presented;
        if (scenario == "refresh") {
          if (mine.empty()) {
            break;
          }
          presented = mine.front();
          body = "{\"refresh_token\":\"" + presented + "\"}";
          mine.erase(mine.begin());
          request = "POST " + target.path_prefix + "/token?grant_type=refresh_token HTTP/1.1\r\n";
        } else if (scenario == "verify" || scenario == "otp") {
          const std::size_t i = next_item.fetch_add(1);
          if (i >= items.size()) {
            break;
          }
          if (scenario == "verify") {
            body = "{\"type\":\"email\",\"email\":\"" + items[i] + "\",\"token\":\"1234\"}";
            request = "POST " + target.path_prefix + "/verify HTTP/1.1\r\n";
          } else {
            body = "{\"email\":\"" + items[i] + "\"}";
            request = "POST " + target.path_prefix + "/otp HTTP/1.1\r\n";
          }
        } else {
          request = "GET " + target.path_prefix + arg + " HTTP/1.1\r\n";
        }
        request += "Host: " + target.host + "\r\napikey: " + apikey + "\r\n";
        if (!body.empty()) {
          request += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
        }
        request += "\r\n" + body;
        std::this_thread::sleep_until(slot);
        const Clock::time_point sent = Clock::now();
        std::pair<int, std::string> answer{0, ""};
        try {
          if (!conn) {
            conn = std::make_unique<Connection>(ctx.get(), target);
          }
          answer = conn->exchange(request);
        } catch (const std::exception&) {
        }
        if (answer.first == 0) {
          conn.reset();  // reconnect for the next one
        }
        const Clock::time_point done = Clock::now();
        const double ms = std::chrono::duration<double, std::milli>(done - slot).count();
        Clock::time_point seen_last = last_done.load();
        while (done > seen_last && !last_done.compare_exchange_weak(seen_last, done)) {
        }
        ++seen[answer.first];
        (answer.first / 100 == 2 ? ok : other).push_back(ms);
        (answer.first / 100 == 2 ? service : refusal)
            .push_back(std::chrono::duration<double, std::milli>(done - sent).count());
        const std::string next = json_field(answer.second, "refresh_token");
        if (scenario == "refresh" && answer.first == 200 && !next.empty()) {
          mine.push_back(next);
        } else if (scenario == "refresh" && (answer.first == 503 || answer.first == 429)) {
          mine.push_back(presented);  // refused before it was used: still live
        }
        if (save && answer.first == 200 && !next.empty()) {
          saved.push_back(next);
        }
      }
      const std::lock_guard lock(results_mutex);
      served_ms.insert(served_ms.end(), ok.begin(), ok.end());
      rejected_ms.insert(rejected_ms.end(), other.begin(), other.end());
      service_ms.insert(service_ms.end(), service.begin(), service.end());
      refusal_ms.insert(refusal_ms.end(), refusal.begin(), refusal.end());
      for (const auto& [status, n] : seen) {
        statuses[status] += n;
      }
      if (save) {
        // verify: the new sessions' tokens; refresh: the live end of each chain.
        if (scenario == "refresh") {
          saved = mine;
        }
        std::ofstream out(save, std::ios::app);
        for (const std::string& t : saved) {
          out << t << "\n";
        }
      }
    });
  }
  for (std::thread& t : threads) {
    t.join();
  }
  std::string counts;
  for (const auto& [status, n] : statuses) {
    if (!counts.empty()) {
      counts += ',';
    }
    counts += std::to_string(status);  // appended: GCC 12's -Wrestrict false positive at -O3
    counts += ':';
    counts += std::to_string(n);
  }
  // Served per second of the run, or of the time it took when the server
  // could not keep up with the schedule.
  const double elapsed = std::max(seconds, std::chrono::duration<double>(last_done.load() - start).count());
  const double served = static_cast<double>(served_ms.size()) / elapsed;
  std::printf(
      "offered=%.0f/s served=%.0f/s statuses=%s 2xx p50=%.2fms p99=%.2fms p99.9=%.2fms other p99=%.2fms "
      "(from send: 2xx p50=%.2fms p99=%.2fms, other p99=%.2fms)\n",
      rate, served, counts.c_str(), percentile(served_ms, 50), percentile(served_ms, 99), percentile(served_ms, 99.9),
      percentile(rejected_ms, 99), percentile(service_ms, 50), percentile(service_ms, 99), percentile(refusal_ms, 99));
  return 0;
}
