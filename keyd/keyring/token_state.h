#pragma once
// keyd's keyring state inside the token, where every keyd that shares the
// token (several nodes on one HSM cluster) sees the same state. Each write
// is a new private, unmodifiable CKO_DATA object (CKA_APPLICATION
// "orbitnest:state", CKA_LABEL "orbitnest:state:g<generation>:<nonce>",
// CKA_VALUE the state as JSON). There is no lock service, so a write is a
// claim that is checked after it is made:
//   1. read the head (generation G), change the state, write it as G+1
//      under a random nonce;
//   2. list the objects again: the write stands if it is the only object
//      of G+1, nothing newer exists, and the head below it is still the G
//      it was based on; otherwise its object is deleted and the caller
//      re-reads and decides again (StateConflict).
// Two writers can never both stand: each sees the other's object unless
// it checked before the other wrote, and the later writer then yields.
// The head readers use is the newest generation held by exactly one
// object; two objects of one generation are writes in flight.
// Old generations are pruned after each write (the newest kKeepGenerations stay).
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "keyd/keyring/keyring_state.h"
#include "keyd/pkcs11/token.h"

namespace orbitnest::keyd {

inline constexpr const char* kStateApplication = "orbitnest:state";
inline constexpr const char* kStateLabelPrefix = "orbitnest:state:g";
inline constexpr std::uint64_t kKeepGenerations = 3;
// A write that looks alone is looked at once more after this (token_state.cpp).
inline constexpr std::chrono::milliseconds kSettle{40};
// Identical rival objects seen this many writes in a row are stuck (token_state.cpp).
inline constexpr int kStuckAttempts = 8;

// Another keyd wrote the state at the same time, or first: re-read, decide again.
class StateConflict final : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct StateHead {
  std::uint64_t generation = 0;
  std::string label;  // of its token object (generation and nonce)
};

class TokenState final {
 public:
  explicit TokenState(p11::Token& token) : m_token(token) {}

  // The newest generation held by exactly one object; nullopt when the
  // token holds no state yet. A reader that `held` a newer head whose
  // object is still there keeps it: a second object of its generation is a
  // late write that will yield, and the state must not step back meanwhile.
  std::optional<StateHead> head(const std::optional<StateHead>& held = std::nullopt);
  // The head's state; nullopt if its object vanished meanwhile.
  std::optional<KeydStateFile> read(const StateHead& head);
  // Writes `state` as generation base+1 (sets state.generation) and checks
  // the claim (above). The new head, or nullopt if another write won.
  std::optional<StateHead> commit(KeydStateFile& state, const std::optional<StateHead>& base);

 private:
  void unstick(p11::Session& s, std::uint64_t generation, std::vector<std::string> rivals);

  p11::Token& m_token;
  // Callers hold the registry's exclusive lock: one commit at a time.
  std::vector<std::string> m_stuck_rivals;
  int m_stuck_seen = 0;
};

// "orbitnest:state:g00000000000000000042:<nonce>" -> 42; nullopt if not a state label.
std::optional<std::uint64_t> state_label_generation(const std::string& label);

}  // namespace orbitnest::keyd
