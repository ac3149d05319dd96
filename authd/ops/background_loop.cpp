#include "authd/ops/background_loop.h"

#include "systemd/log.h"

namespace orbitnest::authd {

BackgroundLoop::BackgroundLoop(std::string name, std::chrono::milliseconds period, std::function<void()> work)
    : m_name(std::move(name)), m_period(period), m_work(std::move(work)), m_thread([this] { run(); }) {}

BackgroundLoop::~BackgroundLoop() {
  {
    const std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  m_cv.notify_all();
  m_thread.join();
}

void BackgroundLoop::wake() {
  {
    const std::lock_guard lock(m_mutex);
    m_woken = true;
  }
  m_cv.notify_all();
}

void BackgroundLoop::run() {
  std::unique_lock lock(m_mutex);
  while (!m_stopping) {
    m_cv.wait_for(lock, m_period, [this] { return m_stopping || m_woken; });
    m_woken = false;
    if (m_stopping) {
      break;
    }
    lock.unlock();
    try {
      m_work();
    } catch (const std::exception& e) {
      log::warning("authd.background_error", {{"loop", m_name}, {"reason", e.what()}});
    }
    lock.lock();
  }
}

}  // namespace orbitnest::authd
