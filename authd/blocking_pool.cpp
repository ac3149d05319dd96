#include "authd/blocking_pool.h"

#include "systemd/log.h"

namespace orbitnest::authd {

BlockingPool::BlockingPool(int threads, int queue_limit)
    : m_queue_limit(static_cast<std::size_t>(queue_limit)), m_thread_count(static_cast<std::size_t>(threads)) {
  for (int i = 0; i < threads; ++i) {
    m_threads.emplace_back([this] { work(); });
  }
}

BlockingPool::~BlockingPool() { stop(); }

bool BlockingPool::try_submit(std::function<void()> job, Clock::duration max_wait, std::function<void()> expired) {
  const Clock::time_point now = Clock::now();
  {
    const std::lock_guard lock(m_mutex);
    if (m_stopping || m_queue.size() >= m_queue_limit) {
      ++m_refused;
      return false;
    }
    if (max_wait != Clock::duration::max()) {
      const Clock::duration expected = m_job_time * static_cast<long>(m_queue.size()) / static_cast<long>(m_thread_count);
      if (expected > max_wait) {
        ++m_refused;
        return false;
      }
    }
    const Clock::time_point deadline = max_wait == Clock::duration::max() ? Clock::time_point::max() : now + max_wait;
    m_queue.push_back(Job{std::move(job), std::move(expired), deadline});
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

BlockingPool::Clock::duration BlockingPool::recent_job_time() const {
  const std::lock_guard lock(m_mutex);
  return m_job_time;
}

BlockingPool::Stats BlockingPool::stats() const {
  const std::lock_guard lock(m_mutex);
  return Stats{m_thread_count, m_busy, m_queue.size(), m_refused, m_expired};
}

void BlockingPool::work() {
  for (;;) {
    Job job;
    {
      std::unique_lock lock(m_mutex);
      m_wake.wait(lock, [this] { return m_stopping || !m_queue.empty(); });
      if (m_queue.empty()) {
        return;
      }
      job = std::move(m_queue.front());
      m_queue.pop_front();
      ++m_busy;
    }
    const Clock::time_point start = Clock::now();
    const bool late = job.expired && start > job.deadline;
    try {
      late ? job.expired() : job.run();
    } catch (const std::exception& e) {
      log::error("authd.worker_job_failed", {{"reason", e.what()}});
    }
    const Clock::duration took = Clock::now() - start;
    const std::lock_guard lock(m_mutex);
    --m_busy;
    if (late) {
      ++m_expired;
    } else {
      // Only jobs that ran count: expired ones are answered in no time and
      // would make the queue look faster than it is.
      m_job_time = m_job_time == Clock::duration{0} ? took : (m_job_time * 7 + took) / 8;
    }
  }
}

}  // namespace orbitnest::authd
