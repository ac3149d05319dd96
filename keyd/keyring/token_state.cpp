#include "keyd/keyring/token_state.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <thread>
#include <map>
#include <vector>

#include "keyd/pkcs11/objects.h"
#include "systemd/log.h"

namespace orbitnest::keyd {
namespace {

std::string hex(const std::vector<std::uint8_t>& bytes) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (const std::uint8_t b : bytes) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

std::string state_label(std::uint64_t generation, const std::string& nonce) {
  char g[32];
  std::snprintf(g, sizeof(g), "%020llu", static_cast<unsigned long long>(generation));
  return std::string(kStateLabelPrefix) + g + ":" + nonce;
}

struct Listed {
  std::uint64_t generation;
  p11::DataObjectRef ref;
};

std::vector<Listed> list(p11::Session& s) {
  std::vector<Listed> out;
  for (p11::DataObjectRef& o : p11::find_data_objects(s, kStateApplication)) {
    if (const std::optional<std::uint64_t> g = state_label_generation(o.label)) {
      out.push_back(Listed{*g, std::move(o)});
    }
  }
  return out;
}

// Newest generation with exactly one object, at or below `at_most`.
std::optional<StateHead> head_of(const std::vector<Listed>& objects, std::uint64_t at_most = UINT64_MAX) {
  std::map<std::uint64_t, std::vector<const Listed*>, std::greater<>> by_generation;
  for (const Listed& o : objects) {
    if (o.generation <= at_most) {
      by_generation[o.generation].push_back(&o);
    }
  }
  for (const auto& [generation, group] : by_generation) {
    if (group.size() == 1) {
      return StateHead{generation, group.front()->ref.label};
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::uint64_t> state_label_generation(const std::string& label) {
  const std::string prefix = kStateLabelPrefix;
  if (label.rfind(prefix, 0) != 0 || label.size() < prefix.size() + 21 || label[prefix.size() + 20] != ':') {
    return std::nullopt;
  }
  std::uint64_t g = 0;
  for (std::size_t i = prefix.size(); i < prefix.size() + 20; ++i) {
    if (label[i] < '0' || label[i] > '9') {
      return std::nullopt;
    }
    g = g * 10 + static_cast<std::uint64_t>(label[i] - '0');
  }
  return g;
}

std::optional<StateHead> TokenState::head(const std::optional<StateHead>& held) {
  return m_token.with_session([&](p11::Session& s) -> std::optional<StateHead> {
    const std::vector<Listed> objects = list(s);
    std::optional<StateHead> h = head_of(objects);
    if (held && (!h || h->generation < held->generation)) {
      for (const Listed& o : objects) {
        if (o.ref.label == held->label) {
          return held;
        }
      }
    }
    return h;
  });
}

std::optional<KeydStateFile> TokenState::read(const StateHead& head) {
  const std::optional<std::string> value = m_token.with_session([&](p11::Session& s) -> std::optional<std::string> {
    for (const Listed& o : list(s)) {
      if (o.ref.label == head.label) {
        try {
          return p11::get_attribute(s, o.ref.handle, CKA_VALUE);
        } catch (const p11::Pkcs11Error&) {
          return std::nullopt;  // deleted between the search and the read
        }
      }
    }
    return std::nullopt;
  });
  if (!value) {
    return std::nullopt;
  }
  KeydStateFile state = parse_state(*value);
  if (state.generation != head.generation) {
    throw StateFileError("token state object " + head.label + " holds generation " +
                         std::to_string(state.generation));
  }
  return state;
}

std::optional<StateHead> TokenState::commit(KeydStateFile& state, const std::optional<StateHead>& base) {
  const std::uint64_t generation = (base ? base->generation : 0) + 1;
  state.generation = generation;
  const std::string label = state_label(generation, hex(m_token.random_bytes(8)));
  const std::string value = serialize_state(state);
  const CK_OBJECT_HANDLE mine =
      m_token.with_session([&](p11::Session& s) { return p11::create_data_object(s, kStateApplication, label, value); });
  // Does the claim stand? Checked twice, kSettle apart: SoftHSM's file
  // store folds another process's change into this process's own next
  // write (its token generation counter), so a search right after our
  // write can miss an object another keyd made just before it; a later
  // write by the other process (its touch, its delete) makes it visible.
  // On a real HSM cluster the second look finds what the first did.
  std::vector<std::string> rivals;
  const auto stands = [&](p11::Session& s, std::vector<Listed>& objects) {
    objects = list(s);
    bool present = false;
    rivals.clear();
    for (const Listed& o : objects) {
      if (o.ref.label == label) {
        present = true;
      } else if (o.generation >= generation) {
        if (o.generation == generation) {
          rivals.push_back(o.ref.label);
        } else {
          rivals.push_back("newer");
        }
      }
    }
    const std::optional<StateHead> below = head_of(objects, generation - 1);
    const bool base_holds = base ? (below && below->label == base->label) : !below.has_value();
    if (!base_holds && generation > 1) {
      // Two objects of our base's generation: a late write, or a stuck pair (unstick()).
      for (const Listed& o : objects) {
        if (o.generation == generation - 1) {
          rivals.push_back(o.ref.label);
        }
      }
    }
    return present && rivals.empty() && base_holds;
  };
  std::vector<Listed> objects;
  bool won = m_token.with_session([&](p11::Session& s) { return stands(s, objects); });
  if (won) {
    // A write of our own between the two looks (a tiny object made and
    // deleted): of two racing writers, the one whose touch came first sees
    // the other's later touch, so its second look finds the rival; the
    // later one then sees the first one's delete.
    m_token.with_session([&](p11::Session& s) {
      p11::destroy_object(s, p11::create_data_object(s, kStateApplication, "orbitnest:state-touch", ""));
      return 0;
    });
    std::this_thread::sleep_for(kSettle);
    won = m_token.with_session([&](p11::Session& s) { return stands(s, objects); });
  }
  if (!won) {
    m_token.with_session([&](p11::Session& s) {
      try {
        p11::destroy_object(s, mine);
      } catch (const p11::Pkcs11Error&) {
        // Gone already; nobody builds on an object that is not alone.
      }
      unstick(s, generation, rivals);
      return 0;
    });
    log::info("keyd.state_write_yielded", {{"generation", static_cast<std::int64_t>(generation)}});
    return std::nullopt;
  }
  m_stuck_seen = 0;
  // Prune: keep the newest kKeepGenerations generations.
  m_token.with_session([&](p11::Session& s) {
    for (const Listed& o : objects) {
      if (o.generation + kKeepGenerations <= generation) {
        try {
          p11::destroy_object(s, o.ref.handle);
        } catch (const p11::Pkcs11Error&) {
          // Another node pruned it first.
        }
      }
    }
    return 0;
  });
  return StateHead{generation, label};
}

void TokenState::unstick(p11::Session& s, std::uint64_t generation, std::vector<std::string> rivals) {
  // Rivals that stay put write after write are not writes in flight (those
  // decide within milliseconds) but two writes that both believed they
  // stood (the SoftHSM blind spot above) or whose keyd died between
  // writing and deleting. Left alone they would block every write for
  // ever: after kStuckAttempts identical sightings every keyd keeps the
  // lowest label of that generation and deletes the others, the same
  // choice on every node.
  rivals.erase(std::remove(rivals.begin(), rivals.end(), std::string("newer")), rivals.end());
  std::sort(rivals.begin(), rivals.end());
  if (rivals.size() < 2 || rivals != m_stuck_rivals) {
    m_stuck_rivals = rivals;
    m_stuck_seen = 1;
    return;
  }
  if (++m_stuck_seen < kStuckAttempts) {
    return;
  }
  // The stuck pair's generation: ours or our base's (the labels say).
  const std::optional<std::uint64_t> stuck_generation = state_label_generation(rivals.front());
  if (!stuck_generation || *stuck_generation + 1 < generation) {
    return;
  }
  for (const Listed& o : list(s)) {
    if (o.generation == *stuck_generation && o.ref.label != rivals.front()) {
      try {
        p11::destroy_object(s, o.ref.handle);
        log::warning("keyd.state_duplicate_removed", {{"label", o.ref.label}, {"kept", rivals.front()}});
      } catch (const p11::Pkcs11Error&) {
      }
    }
  }
  m_stuck_seen = 0;
}

}  // namespace orbitnest::keyd
