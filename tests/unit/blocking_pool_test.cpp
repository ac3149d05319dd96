// The worker pool refuses work beyond its queue limit instead of queueing
// without bound, refuses at once what would wait past its budget, and does
// not run what already has (the HTTP layer turns each into 503).
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <memory>
#include <thread>

#include "authd/blocking_pool.h"

namespace orbitnest::authd {
namespace {

// Keeps a one-thread pool's only worker busy until release().
class BusyWorker {
 public:
  explicit BusyWorker(BlockingPool& pool) {
    // Shared with the job: it may still be inside set_value() when the
    // wait below returns.
    auto started = std::make_shared<std::promise<void>>();
    std::future<void> running = started->get_future();
    std::shared_future<void> gate = m_release.get_future().share();
    m_submitted = pool.try_submit([started, gate] {
      started->set_value();
      gate.wait();
    });
    if (m_submitted) {
      running.wait();
    }
  }
  bool submitted() const { return m_submitted; }
  void release() { m_release.set_value(); }

 private:
  std::promise<void> m_release;
  bool m_submitted = false;
};

TEST(BlockingPool, RefusesBeyondQueueLimit) {
  BlockingPool pool(1, 2);
  BusyWorker busy(pool);
  ASSERT_TRUE(busy.submitted());  // the only worker is now busy
  std::atomic<int> ran{0};
  EXPECT_TRUE(pool.try_submit([&] { ++ran; }));
  EXPECT_TRUE(pool.try_submit([&] { ++ran; }));
  EXPECT_FALSE(pool.try_submit([&] { ++ran; }));  // queue full
  busy.release();
  pool.stop();
  EXPECT_EQ(ran.load(), 2);
  EXPECT_FALSE(pool.try_submit([] {}));  // stopped
}

using namespace std::chrono_literals;

TEST(BlockingPool, RefusesAtOnceWhatWouldWaitPastItsBudget) {
  BlockingPool pool(1, 100);
  for (int i = 0; i < 4; ++i) {  // teach it the time per job: ~30 ms
    std::promise<void> done;
    ASSERT_TRUE(pool.try_submit([&] {
      std::this_thread::sleep_for(30ms);
      done.set_value();
    }));
    done.get_future().wait();
  }
  ASSERT_GE(pool.recent_job_time(), 30ms);
  BusyWorker busy(pool);
  ASSERT_TRUE(busy.submitted());
  // With ~30 ms a job on one thread, a 100 ms budget admits about three
  // queued jobs; the next is refused long before the queue limit (100).
  int accepted = 0;
  while (accepted < 100 && pool.try_submit([] { std::this_thread::sleep_for(30ms); }, 100ms)) {
    ++accepted;
  }
  EXPECT_GE(accepted, 1);
  EXPECT_LE(accepted, 4);
  EXPECT_TRUE(pool.try_submit([] {})) << "work without a budget still queues";
  busy.release();
  pool.stop();
}

TEST(BlockingPool, AJobPastItsBudgetRunsItsExpiredStepInstead) {
  BlockingPool pool(1, 10);
  BusyWorker busy(pool);
  ASSERT_TRUE(busy.submitted());
  std::atomic<int> ran{0};
  std::atomic<int> expired{0};
  ASSERT_TRUE(pool.try_submit([&] { ++ran; }, 10ms, [&] { ++expired; }));
  std::this_thread::sleep_for(50ms);
  busy.release();
  pool.stop();
  EXPECT_EQ(ran.load(), 0);
  EXPECT_EQ(expired.load(), 1);
}

}  // namespace
}  // namespace orbitnest::authd
