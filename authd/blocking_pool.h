#pragma once
// A bounded pool of worker threads for blocking work (Postgres, Argon2id,
// keyd calls). try_submit() refuses instead of queueing without bound: the
// HTTP layer answers such a request 503 + Retry-After at once.
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
  BlockingPool(int threads, int queue_limit);
  ~BlockingPool();
  BlockingPool(const BlockingPool&) = delete;
  BlockingPool& operator=(const BlockingPool&) = delete;

  // False when queue_limit jobs are already waiting (or the pool stopped).
  bool try_submit(std::function<void()> job);
  // Runs the jobs already queued, then joins the threads.
  void stop();

 private:
  void work();

  std::mutex m_mutex;
  std::condition_variable m_wake;
  std::deque<std::function<void()>> m_queue;
  std::size_t m_queue_limit;
  bool m_stopping = false;
  std::vector<std::thread> m_threads;
};

}  // namespace orbitnest::authd
