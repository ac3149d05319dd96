// keyd throughput: signatures/s through the socket at 1, 2 and 8 clients
// beside raw C_Sign in this process on the same token, plus totp_verify/s
// and mac/s. Run by tests/bench/run.sh, which makes the token and keyd.
//   keyd_bench SOCKET MODULE TOKEN_LABEL PIN_FILE SECONDS
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "hardening/secret_bytes.h"
#include "keyd/client/keyd_connection.h"
#include "keyd/pkcs11/signing_key.h"
#include "keyd/pkcs11/token.h"

using namespace orbitnest;
using Clock = std::chrono::steady_clock;

namespace {

// Runs `op` on `threads` threads for `seconds`; returns operations/s.
double rate(int threads, double seconds, const std::function<std::function<void()>()>& make_worker) {
  std::atomic<bool> stop{false};
  std::atomic<long> done{0};
  std::vector<std::thread> pool;
  std::vector<std::function<void()>> workers;
  for (int i = 0; i < threads; ++i) {
    workers.push_back(make_worker());
  }
  const auto start = Clock::now();
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([&, i] {
      long n = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        workers[static_cast<std::size_t>(i)]();
        ++n;
      }
      done += n;
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (std::thread& t : pool) {
    t.join();
  }
  return static_cast<double>(done.load()) / std::chrono::duration<double>(Clock::now() - start).count();
}

std::string claims() {
  const long now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  return R"({"iss":"https://localhost/projects/bench/auth/v1","sub":"9f2a1c7e-0000-4000-8000-000000000001","aud":"authenticated","role":"authenticated","iat":)" +
         std::to_string(now) + R"(,"exp":)" + std::to_string(now + 3000) + "}";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: keyd_bench SOCKET MODULE TOKEN_LABEL PIN_FILE SECONDS\n");
    return 64;
  }
  const std::string socket = argv[1];
  const double seconds = std::atof(argv[5]);

  // Raw: C_Sign (ECDSA P-256 on a SHA-256 digest) in this process.
  auto module = std::make_shared<keyd::p11::Module>(argv[2]);
  keyd::p11::Token token(module, argv[3], hardening::read_secret_file(argv[4], 256), 8);
  const keyd::p11::KeyPair pair = token.with_session([](keyd::p11::Session& s) {
    return keyd::p11::generate_signing_key(s, keyd::p11::Algorithm::es256, "bench:raw");
  });
  const std::string input = claims();
  const double raw1 = rate(1, seconds, [&] {
    return [&] { token.with_session([&](keyd::p11::Session& s) {
      return keyd::p11::sign_message(s, keyd::p11::Algorithm::es256, pair.private_key, input); }); };
  });
  const double raw2 = rate(2, seconds, [&] {
    return [&] { token.with_session([&](keyd::p11::Session& s) {
      return keyd::p11::sign_message(s, keyd::p11::Algorithm::es256, pair.private_key, input); }); };
  });
  token.with_session([&](keyd::p11::Session& s) {
    s.fn().C_DestroyObject(s.handle(), pair.private_key);
    s.fn().C_DestroyObject(s.handle(), pair.public_key);
    return 0;
  });

  {
    keyd::KeydConnection setup(socket, std::chrono::milliseconds(10000));
    setup.call(keyd::Op::ensure_keyring, {"bench"});
  }
  // Claims made per call: keyd refuses an iat outside its clock skew, which
  // a long run would otherwise outlive.
  auto sign_worker = [&] {
    auto conn = std::make_shared<keyd::KeydConnection>(socket, std::chrono::milliseconds(10000));
    return std::function<void()>([conn] { conn->call(keyd::Op::sign_jwt, {"project:bench", claims()}); });
  };
  const double sock1 = rate(1, seconds, sign_worker);
  const double sock2 = rate(2, seconds, sign_worker);
  const double sock8 = rate(8, seconds, sign_worker);

  std::string blob;
  {
    keyd::KeydConnection setup(socket, std::chrono::milliseconds(10000));
    blob = setup.call(keyd::Op::seal, {"totp", "user:bench", "12345678901234567890"}).fields.at(0);
  }
  const double totp8 = rate(8, seconds, [&] {
    auto conn = std::make_shared<keyd::KeydConnection>(socket, std::chrono::milliseconds(10000));
    return std::function<void()>([conn, &blob] {
      // keyd checks at its own clock: this (1970) code is refused after the
      // same work as a right one (unseal, three steps compared).
      conn->call(keyd::Op::totp_verify, {blob, "user:bench", "287082", keyd::encode_u64(0)});
    });
  });
  const double mac8 = rate(8, seconds, [&] {
    auto conn = std::make_shared<keyd::KeydConnection>(socket, std::chrono::milliseconds(10000));
    return std::function<void()>([conn] { conn->call(keyd::Op::mac, {"password", "correct horse", keyd::encode_u32(0)}); });
  });

  std::printf("| measurement | ops/s | ratio to raw C_Sign (1 thread) |\n|---|---:|---:|\n");
  std::printf("| raw C_Sign ES256, 1 thread, in process | %.0f | 1.00 |\n", raw1);
  std::printf("| raw C_Sign ES256, 2 threads, in process | %.0f | %.2f |\n", raw2, raw2 / raw1);
  std::printf("| keyd sign_jwt ES256, 1 client | %.0f | %.2f |\n", sock1, sock1 / raw1);
  std::printf("| keyd sign_jwt ES256, 2 clients | %.0f | %.2f |\n", sock2, sock2 / raw1);
  std::printf("| keyd sign_jwt ES256, 8 clients | %.0f | %.2f |\n", sock8, sock8 / raw1);
  std::printf("| keyd totp_verify, 8 clients | %.0f | |\n", totp8);
  std::printf("| keyd mac (pepper HMAC), 8 clients | %.0f | |\n", mac8);
  std::printf("\nsign_jwt at 8 clients / raw C_Sign at 2 threads (both cores busy): %.2f\n", sock8 / raw2);
  return 0;
}
