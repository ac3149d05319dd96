// Raw Argon2id hashes/s with Botan on N threads, the ceiling for password
// sign-ins/s with the same parameters.
//   argon2_bench MEMORY_KIB ITERATIONS PARALLELISM THREADS SECONDS
#include <botan/argon2.h>
#include <botan/system_rng.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: argon2_bench MEMORY_KIB ITERATIONS PARALLELISM THREADS SECONDS\n");
    return 64;
  }
  const std::size_t m = std::strtoul(argv[1], nullptr, 10);
  const std::size_t t = std::strtoul(argv[2], nullptr, 10);
  const std::size_t p = std::strtoul(argv[3], nullptr, 10);
  const int threads = std::atoi(argv[4]);
  const double seconds = std::atof(argv[5]);
  std::atomic<bool> stop{false};
  std::atomic<long> done{0};
  std::vector<std::thread> pool;
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([&] {
      const std::string pw = "a peppered password of 43 characters........";
      while (!stop.load()) {
        (void)Botan::argon2_generate_pwhash(pw.data(), pw.size(), Botan::system_rng(), p, m, t, 2);
        ++done;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (std::thread& th : pool) {
    th.join();
  }
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%.1f\n", static_cast<double>(done.load()) / elapsed);
  return 0;
}
