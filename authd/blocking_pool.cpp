#include "authd/blocking_pool.h"

#include "systemd/log.h"

namespace orbitnest::authd {

BlockingPool::BlockingPool(int threads, int queue_limit) : m_queue_limit(static_cast<std::size_t>(queue_limit)) {
  for (int i = 0; i < threads; ++i) {
    m_threads.emplace_back([this] { work(); });
  }
}

BlockingPool::~BlockingPool() { stop(); }

bool BlockingPool::try_submit(std::function<void()> job) {
  {
    const std::lock_guard lock(m_mutex);
    if (m_stopping || m_queue.size() >= m_queue_limit) {
      return false;
    }
    m_queue.push_back(std::move(job));
  }
  m_wake.notify_one();
  return true;
}

void BlockingPool::stop() {
  {
    const std::lock_guard lock(m_mutex);
    m_stopping = true;
  }
  m_wake.notify_all();
  for (std::thread& t : m_threads) {
    if (t.joinable()) {
      t.join();
    }
  }
  m_threads.clear();
}

void BlockingPool::work() {
  for (;;) {
    std::function<void()> job;
    {
      std::unique_lock lock(m_mutex);
      m_wake.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
      if (m_queue.empty()) {
        return;
      }
      job = std::move(m_queue.front());
      m_queue.pop_front();
    }
    try {
      job();
    } catch (const std::exception& e) {
      log::error("authd.worker_job_failed", {{"reason", e.what()}});
    }
  }
}

}  // namespace orbitnest::authd
