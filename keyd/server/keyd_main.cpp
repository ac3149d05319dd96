// keyd: key custody daemon. Thin main: parse arguments, load config, take
// or bind the socket, open the HSM, then run the event loop (accept,
// signals, watchdog, HSM retry) until SIGTERM.
#include <fcntl.h>
#include <sys/stat.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cerrno>
#include <cstring>
#include <boost/json.hpp>
#include <iostream>
#include <optional>
#include <string>

#include "config/config_error.h"
#include "config/keyd_config.h"
#include "config/version.h"
#include "hardening/process_hardening.h"
#include "keyd/audit/audit_log.h"
#include "keyd/keyring/keyring_store.h"
#include "keyd/secrets/secret_vault.h"
#include "keyd/server/hsm_connector.h"
#include "keyd/server/keyd_state.h"
#include "keyd/server/request_handler.h"
#include "keyd/server/socket_server.h"
#include "systemd/listen_fds.h"
#include "systemd/log.h"
#include "systemd/notify.h"

namespace {

using namespace orbitnest;
using Clock = std::chrono::steady_clock;

constexpr auto kHsmRetryInterval = std::chrono::seconds(5);
constexpr auto kScheduleInterval = std::chrono::seconds(10);

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Everything that needs the logged-in token; built once the HSM is open.
struct Custody {
  std::unique_ptr<keyd::p11::Token> token;
  std::unique_ptr<keyd::KeyringStore> keyrings;
  std::unique_ptr<keyd::SecretVault> vault;
};

struct Args {
  std::string config = "/etc/orbitnest/keyd.yaml";
  bool check_config = false;
};

int usage() {
  std::cerr << "usage: keyd [--config FILE] [--check-config] [--version]\n";
  return 64;  // EX_USAGE
}

UniqueFd make_signalfd() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  // Blocked before any thread starts, so every thread inherits the mask and
  // the signals arrive only through the signalfd.
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  return UniqueFd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
}

int run(const config::KeydConfig& cfg, UniqueFd signals) {
  std::optional<UniqueFd> passed = sd::take_seqpacket_listener();
  UniqueFd listener = passed ? std::move(*passed) : keyd::bind_seqpacket_socket(cfg.socket.path, cfg.socket.mode);
  ::fcntl(listener.get(), F_SETFL, ::fcntl(listener.get(), F_GETFL) | O_NONBLOCK);
  log::info("keyd.listening", {{"socket", passed ? std::string("systemd") : cfg.socket.path}});

  if (::mkdir(cfg.state_directory.c_str(), 0700) != 0 && errno != EEXIST) {
    throw std::runtime_error("cannot create state directory " + cfg.state_directory + ": " + std::strerror(errno));
  }
  // Refuses (AuditLogRejected) a log whose chain or checkpoint spacing is
  // broken; its signatures are checked once the HSM is open.
  keyd::AuditLog audit(cfg.audit_file, cfg.audit_checkpoint_every);

  keyd::KeydState state;
  const keyd::RequestHandler handler(state);
  keyd::SocketServer server(std::move(listener),
                            keyd::PeerPolicy(cfg.clients.authd_uid, cfg.clients.operator_gid), handler,
                            keyd::ConnectionLimits{cfg.clients.authd_max_connections,
                                                   cfg.clients.operator_max_connections},
                            [&audit](const keyd::PeerCredentials& peer, const std::string& comm) {
                              try {
                                audit.append(keyd::AuditEvent{"peer_refused", "", "", "", "refused", peer, comm, {}});
                              } catch (const std::exception&) {
                                // Refused either way.
                              }
                            });

  Custody custody;
  bool hsm_retry = true;
  std::string last_login_problem;  // a failed login is recorded once per distinct problem
  Clock::time_point next_hsm_try = Clock::now();
  Clock::time_point next_schedule = Clock::now() + kScheduleInterval;
  Clock::time_point next_summary = Clock::now() + std::chrono::seconds(cfg.audit_summary_seconds);
  const std::optional<std::chrono::microseconds> watchdog = sd::watchdog_period();

  for (;;) {
    if (!custody.token && hsm_retry && Clock::now() >= next_hsm_try) {
      keyd::HsmOpenResult opened = keyd::open_hsm(cfg.hsm);
      std::string problem = opened.problem;
      if (opened.token) {
        try {
          // open() first checks the log with the HSM audit key and signs
          // its head, so these records follow a checkpoint.
          auto keyrings = std::make_unique<keyd::KeyringStore>(*opened.token, audit, cfg);
          keyrings->open();
          audit.append(keyd::AuditEvent{"config_loaded", "", "", "", "ok", std::nullopt, "",
                                        boost::json::object{{"version", std::string(kVersion)}}});
          audit.append(keyd::AuditEvent{"token_login", "", "", "", "ok", std::nullopt, "",
                                        boost::json::object{{"token", cfg.hsm.token_label}}});
          custody.vault = std::make_unique<keyd::SecretVault>(keyrings->symmetric_keys(), *opened.token);
          custody.keyrings = std::move(keyrings);
          custody.token = std::move(opened.token);
        } catch (const keyd::AuditLogRejected&) {
          throw;  // fail closed: keyd does not run on a log it cannot vouch for
        } catch (const std::exception& e) {
          problem = std::string("key store: ") + e.what();
          opened.retry = false;  // needs an operator: retrying would not change it
        }
      }
      if (custody.token) {
        state.set(true, "ok", cfg.hsm.token_label,
                  keyd::KeydServices{custody.keyrings.get(), custody.vault.get(), &audit});
        log::notice("keyd.hsm_ready", {{"token", cfg.hsm.token_label}, {"module", cfg.hsm.module}});
        sd::notify_ready("serving token " + cfg.hsm.token_label);
      } else {
        hsm_retry = opened.retry;
        next_hsm_try = Clock::now() + kHsmRetryInterval;
        state.set(false, "hsm: " + problem, cfg.hsm.token_label);
        log::error("keyd.hsm_unavailable",
                   {{"token", cfg.hsm.token_label}, {"problem", problem}, {"will_retry", opened.retry}});
        if (problem != last_login_problem) {
          last_login_problem = problem;
          try {
            audit.append(keyd::AuditEvent{"token_login", "", "", "", "failed: " + problem, std::nullopt, "", {}});
          } catch (const std::exception&) {
            // No HSM, no checkpoint: past the spacing only the journal has it.
          }
        }
        sd::notify_status("HSM unavailable: " + problem);
      }
    }
    if (custody.keyrings && Clock::now() >= next_schedule) {
      next_schedule = Clock::now() + kScheduleInterval;
      custody.keyrings->rotator().run_schedule(unix_now());
    }
    if (custody.keyrings && Clock::now() >= next_summary) {
      next_summary = Clock::now() + std::chrono::seconds(cfg.audit_summary_seconds);
      try {
        custody.keyrings->flush_sign_summaries();
      } catch (const std::exception& e) {
        log::error("keyd.audit_summary_failed", {{"reason", e.what()}});
      }
    }

    int timeout_ms = 1000;
    if (watchdog) {
      timeout_ms = std::min<int>(timeout_ms, static_cast<int>(watchdog->count() / 1000));
    }
    std::array<pollfd, 2> fds{{{server.listener_fd(), POLLIN, 0}, {signals.get(), POLLIN, 0}}};
    const int n = ::poll(fds.data(), fds.size(), timeout_ms);
    if (watchdog) {
      sd::notify_watchdog();  // from the loop itself: a wedged loop gets restarted
    }
    if (n < 0) {
      continue;
    }
    if ((fds[1].revents & POLLIN) != 0) {
      signalfd_siginfo info{};
      if (::read(signals.get(), &info, sizeof(info)) == static_cast<ssize_t>(sizeof(info))) {
        if (info.ssi_signo == SIGHUP) {
          log::info("keyd.sighup_ignored", {{"reason", "nothing to reload yet"}});
        } else {
          log::notice("keyd.stopping", {{"signal", static_cast<int>(info.ssi_signo)}});
          sd::notify_stopping();
          break;
        }
      }
    }
    if ((fds[0].revents & POLLIN) != 0) {
      server.accept_one();
    }
  }
  server.stop();
  state.set(false, "stopping", cfg.hsm.token_label);
  if (custody.keyrings) {
    try {
      custody.keyrings->flush_sign_summaries();
    } catch (const std::exception&) {
    }
  }
  try {
    audit.checkpoint();  // a clean stop leaves the head signed (once the HSM was open)
  } catch (const std::exception& e) {
    log::error("keyd.audit_final_checkpoint_failed", {{"reason", e.what()}});
  }
  log::notice("keyd.stopped");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  log::set_program("keyd");
  Args args;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--config" && i + 1 < argc) {
      args.config = argv[++i];
    } else if (a.rfind("--config=", 0) == 0) {
      args.config = a.substr(9);
    } else if (a == "--check-config") {
      args.check_config = true;
    } else if (a == "--version") {
      std::cout << "keyd " << kVersion << "\n";
      return 0;
    } else {
      return usage();
    }
  }
  try {
    hardening::harden_process();
  } catch (const std::exception& e) {
    log::error("keyd.hardening_failed", {{"reason", e.what()}});
    return 71;  // EX_OSERR
  }
  UniqueFd signals = make_signalfd();

  config::KeydConfig cfg;
  try {
    cfg = config::load_keyd_config(args.config);
  } catch (const config::ConfigError& e) {
    std::cerr << e.what() << "\n";
    return config::kExitConfig;
  }
  if (args.check_config) {
    std::cout << args.config << ": ok\n";
    return 0;
  }
  log::set_level(*log::parse_level(cfg.log_level));
  log::info("keyd.config_loaded", {{"file", args.config}, {"version", std::string(kVersion)}});
  try {
    return run(cfg, std::move(signals));
  } catch (const keyd::AuditLogRejected& e) {
    log::error("keyd.audit_log_rejected", {{"file", cfg.audit_file}, {"reason", e.what()}});
    std::cerr << "keyd: " << e.what() << "\n";
    return 65;  // EX_DATAERR: the operator must look at the log
  } catch (const std::exception& e) {
    log::error("keyd.fatal", {{"reason", e.what()}});
    return 1;
  }
}
