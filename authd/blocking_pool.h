#pragma once
// A bounded pool of worker threads for blocking work (Postgres, Argon2id,
// keyd calls). try_submit() refuses instead of queueing without bound: the
// HTTP layer answers such a request 503 + Retry-After at once.
//
// A job may carry a wait budget. Past it the job is not run: its `expired`
// step runs instead (the HTTP layer answers 503: served that late, the
// answer is of no use). And a job that would already be expected to wait
// longer than its budget — queued jobs × the recent time per job / threads
// — is refused at once rather than left to expire in the queue, so that
// under overload the excess is turned away in microseconds, not after the
// whole budget.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace orbitnest::authd {

class BlockingPool final {
 public:
  using Clock = std::chrono::steady_clock;

  BlockingPool(int threads, int queue_limit);
  ~BlockingPool();
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  // False when queue_limit jobs are already waiting, when the expected
  // wait exceeds `max_wait`, or when the pool stopped.
  bool try_submit(std::function<void()> job, Clock::duration max_wait = Clock::duration::max(),
                  std::function<void()> expired = {});
  // Runs the jobs already queued, then joins the threads.
  void stop();

  // The recent time per job that ran (an exponential moving average).
  Clock::duration recent_job_time() const;

  // For metrics: its size, what it does now, and what it turned away.
  struct Stats {
    std::size_t threads = 0;
    std::size_t busy = 0;
    std::size_t queued = 0;
    std::uint64_t refused = 0;  // try_submit said no (queue full, or the wait too long)
    std::uint64_t expired = 0;  // waited past their deadline, answered "busy"
  };
  Stats stats() const;

 private:
  struct Job {
    std::function<void()> run;
    std::function<void()> expired;
    Clock::time_point deadline;
  };
  void work();

  mutable std::mutex m_mutex;
  std::condition_variable m_wake;
  std::deque<Job> m_queue;
  std::size_t m_queue_limit;
  std::size_t m_thread_count;
  Clock::duration m_job_time{0};
  std::size_t m_busy = 0;
  std::uint64_t m_refused = 0;
  std::uint64_t m_expired = 0;
  bool m_stopping = false;
  std::vector<std::thread> m_threads;
};

}  // namespace orbitnest::authd
