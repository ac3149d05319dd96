#include "authd/keyd/keyd_link.h"

#include <algorithm>

#include "systemd/log.h"

namespace orbitnest::authd {

KeydLink::KeydLink(std::string socket_path, std::chrono::milliseconds timeout, std::chrono::milliseconds max_backoff)
    : m_socket_path(std::move(socket_path)), m_timeout(timeout), m_max_backoff(max_backoff) {
  m_thread = std::thread([this] { reconnect_loop(); });
}

KeydLink::~KeydLink() {
  {
    const std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  m_wake.notify_all();
  m_thread.join();
}

void KeydLink::reconnect_loop() {
  std::chrono::milliseconds backoff(100);
  bool reported_down = false;
  std::unique_lock lock(m_mutex);
  while (!m_stopping) {
    if (m_conn) {
      m_wake.wait(lock, [this] { return m_stopping || !m_conn; });
      backoff = std::chrono::milliseconds(100);
      continue;
    }
    lock.unlock();
    std::unique_ptr<keyd::KeydConnection> fresh;
    std::string problem;
    try {
      fresh = std::make_unique<keyd::KeydConnection>(m_socket_path, m_timeout);
    } catch (const std::exception& e) {
      problem = e.what();
    }
    lock.lock();
    if (fresh) {
      log::notice("authd.keyd_connected", {{"socket", m_socket_path}, {"keyd_version", fresh->keyd_version()}});
      m_conn = std::move(fresh);
      m_ever_connected.store(true);
      reported_down = false;
      continue;
    }
    if (!reported_down) {
      // Logged once per outage, not once per retry.
      log::warning("authd.keyd_unreachable", {{"socket", m_socket_path}, {"problem", problem}});
      reported_down = true;
    }
    m_wake.wait_for(lock, backoff, [this] { return m_stopping; });
    backoff = std::min(backoff * 2, m_max_backoff);
  }
}

KeydHealth KeydLink::check() {
  const std::lock_guard lock(m_mutex);
  if (!m_conn) {
    return KeydHealth::down;
  }
  try {
    const keyd::Frame resp = m_conn->call(keyd::Op::status, {}, {keyd::Status::not_ready});
    return resp.status == keyd::Status::ok ? KeydHealth::ok : KeydHealth::not_ready;
  } catch (const keyd::KeydUnavailable& e) {
    log::warning("authd.keyd_link_lost", {{"problem", e.what()}});
  } catch (const std::exception& e) {
    log::warning("authd.keyd_error", {{"problem", e.what()}});
  }
  m_conn.reset();
  m_wake.notify_all();
  return KeydHealth::down;
}

}  // namespace orbitnest::authd
