#pragma once
// A thread that runs one piece of work every period, or at once when
// woken, until destroyed: the outbox's sender and the housekeeping purge
// share it. A failure of the work is logged under the loop's name and the
// loop goes on at the next period.
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace orbitnest::authd {

class BackgroundLoop final {
 public:
  BackgroundLoop(std::string name, std::chrono::milliseconds period, std::function<void()> work);
  ~BackgroundLoop();  // stops, waits for the work in hand
  BackgroundLoop(const BackgroundLoop&) = delete;
  BackgroundLoop& operator=(const BackgroundLoop&) = delete;

  // Run the work now rather than at the next period.
  void wake();

 private:
  void run();

  std::string m_name;
  std::chrono::milliseconds m_period;
  std::function<void()> m_work;
  std::mutex m_mutex;
  std::condition_variable m_cv;
  bool m_stopping = false;
  bool m_woken = false;
  std::thread m_thread;  // last: starts once the rest is ready
};

}  // namespace orbitnest::authd
