// Raw Argon2id hashes/s on N threads, the ceiling for password sign-ins/s
// with the same parameters: Botan's (what authd uses), or libsodium's for
// comparison when the bench was built with it (p must be 1 there).
//   argon2_bench MEMORY_KIB ITERATIONS PARALLELISM THREADS SECONDS [botan|sodium]
#include <botan/argon2.h>
#include <botan/system_rng.h>
#ifdef ORBITNEST_HAVE_SODIUM
#include <sodium.h>
#endif

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 6 && argc != 7) {
    std::fprintf(stderr, "usage: argon2_bench MEMORY_KIB ITERATIONS PARALLELISM THREADS SECONDS [botan|sodium]\n");
    return 64;
  }
  const std::string library = argc == 7 ? argv[6] : "botan";
#ifdef ORBITNEST_HAVE_SODIUM
  if (sodium_init() < 0) {
    return 1;
  }
#else
  if (library == "sodium") {
    std::fprintf(stderr, "argon2_bench: built without libsodium\n");
    return 69;
  }
#endif
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
#ifdef ORBITNEST_HAVE_SODIUM
        if (library == "sodium") {
          char out[crypto_pwhash_STRBYTES];
          if (crypto_pwhash_str_alg(out, pw.data(), pw.size(), t, m * 1024, crypto_pwhash_ALG_ARGON2ID13) != 0) {
            std::abort();
          }
          ++done;
          continue;
        }
#endif
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
