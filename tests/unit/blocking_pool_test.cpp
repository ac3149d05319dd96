// The worker pool refuses work beyond its queue limit instead of queueing
// without bound (the HTTP layer turns a refusal into 503).
#include <gtest/gtest.h>

#include <atomic>
#include <future>

#include "authd/blocking_pool.h"

namespace orbitnest::authd {
namespace {

TEST(BlockingPool, RefusesBeyondQueueLimit) {
  BlockingPool pool(1, 2);
  std::promise<void> release;
  std::shared_future<void> gate = release.get_future().share();
  std::promise<void> started;
  ASSERT_TRUE(pool.try_submit([&] {
    started.set_value();
    gate.wait();
  }));
  started.get_future().wait();  // the only worker is now busy
  std::atomic<int> ran{0};
  EXPECT_TRUE(pool.try_submit([&] { ++ran; }));
  EXPECT_TRUE(pool.try_submit([&] { ++ran; }));
  EXPECT_FALSE(pool.try_submit([&] { ++ran; }));  // queue full
  release.set_value();
  pool.stop();
  EXPECT_EQ(ran.load(), 2);
  EXPECT_FALSE(pool.try_submit([] {}));  // stopped
}

}  // namespace
}  // namespace orbitnest::authd
