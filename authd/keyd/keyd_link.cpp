#include "authd/keyd/keyd_link.h"

#include <algorithm>

#include "systemd/log.h"

namespace orbitnest::authd {

KeydLink::KeydLink(std::string socket_path, std::chrono::milliseconds timeout, std::chrono::milliseconds max_backoff,
                   std::size_t connections)
    : m_socket_path(std::move(socket_path)), m_max_backoff(max_backoff), m_pool(m_socket_path, timeout, connections) {
  m_thread = std::thread([this] { watch(); });
}

KeydLink::~KeydLink() {
  {
    const std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  m_wake.notify_all();
  m_thread.join();
}

void KeydLink::report_down(const std::string& problem) {
  {
    const std::lock_guard lock(m_mutex);
    if (m_down) {
      return;
    }
    m_down = true;
  }
  log::warning("authd.keyd_link_lost", {{"problem", problem}});
  m_pool.drop_idle();
  m_wake.notify_all();
}

void KeydLink::watch() {
  std::chrono::milliseconds backoff(100);
  bool reported = false;
  std::unique_lock lock(m_mutex);
  while (!m_stopping) {
    if (!m_down) {
      m_wake.wait(lock, [this] { return m_stopping || m_down; });
      backoff = std::chrono::milliseconds(100);
      continue;
    }
    lock.unlock();
    std::string problem;
    std::string version;
    try {
      keyd::KeydConnection probe(m_socket_path, std::chrono::milliseconds(2000));
      version = probe.keyd_version();
    } catch (const std::exception& e) {
      problem = e.what();
    }
    lock.lock();
    if (problem.empty()) {
      log::notice("authd.keyd_connected", {{"socket", m_socket_path}, {"keyd_version", version}});
      m_down = false;
      m_ever_connected.store(true);
      reported = false;
      continue;
    }
    if (!reported) {
      // Logged once per outage, not once per retry.
      log::warning("authd.keyd_unreachable", {{"socket", m_socket_path}, {"problem", problem}});
      reported = true;
    }
    m_wake.wait_for(lock, backoff, [this] { return m_stopping; });
    backoff = std::min(backoff * 2, m_max_backoff);
  }
}

std::string KeydLink::mac(std::string_view purpose, std::string_view data, int version, int* used_version) {
  keyd::MacAnswer m = m_client.mac(std::string(purpose), std::string(data), static_cast<std::uint32_t>(version));
  *used_version = static_cast<int>(m.version);
  return std::move(m.mac);
}

KeydHealth KeydLink::check() {
  {
    const std::lock_guard lock(m_mutex);
    if (m_down) {
      return KeydHealth::down;
    }
  }
  try {
    return m_client.status().ready ? KeydHealth::ok : KeydHealth::not_ready;
  } catch (const keyd::KeydUnavailable& e) {
    report_down(e.what());
  } catch (const std::exception& e) {
    log::warning("authd.keyd_error", {{"problem", e.what()}});
  }
  return KeydHealth::down;
}

}  // namespace orbitnest::authd
