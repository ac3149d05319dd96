#pragma once
// What a channel's sender made of one outbox message. The outbox loop acts
// on it the same way for every channel: sent, retried with backoff, or
// given up for good.
#include <optional>
#include <string>
#include <utility>

namespace orbitnest::authd {

struct Delivery {
  enum class Outcome {
    sent,
    retry,   // try again later (the peer is down, busy, or the project not set up yet)
    failed,  // the peer refused this message for good: never sent again
  };
  Outcome outcome = Outcome::sent;
  // Why not sent, for last_error and the log: never a secret, never the body.
  std::string reason;
  // The peer asked to wait this long (Retry-After); else the outbox's backoff.
  std::optional<int> retry_after_seconds;

  static Delivery sent() { return {}; }
  static Delivery retry(std::string why, std::optional<int> after = std::nullopt) {
    return Delivery{Outcome::retry, std::move(why), after};
  }
  static Delivery failed(std::string why) { return Delivery{Outcome::failed, std::move(why), std::nullopt}; }
};

}  // namespace orbitnest::authd
