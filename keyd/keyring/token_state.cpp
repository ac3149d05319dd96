#include "keyd/keyring/token_state.h"

#include <cstdio>
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
  return m_token.with_session([&](p11::Session& s) -> std::optional<StateHead> {
    const CK_OBJECT_HANDLE mine = p11::create_data_object(s, kStateApplication, label, value);
    const std::vector<Listed> objects = list(s);
    bool stands = false;
    bool newer_or_rival = false;
    for (const Listed& o : objects) {
      if (o.ref.label == label) {
        stands = true;
      } else if (o.generation >= generation) {
        newer_or_rival = true;
      }
    }
    const std::optional<StateHead> below = head_of(objects, generation - 1);
    const bool base_holds = base ? (below && below->label == base->label) : !below.has_value();
    if (!stands || newer_or_rival || !base_holds) {
      try {
        p11::destroy_object(s, mine);
      } catch (const p11::Pkcs11Error&) {
        // Gone already; nobody builds on an object that is not alone.
      }
      log::info("keyd.state_write_yielded", {{"generation", static_cast<std::int64_t>(generation)}});
      return std::nullopt;
    }
    // Prune: keep the newest kKeepGenerations generations.
    for (const Listed& o : objects) {
      if (o.generation + kKeepGenerations <= generation) {
        try {
          p11::destroy_object(s, o.ref.handle);
        } catch (const p11::Pkcs11Error&) {
          // Another node pruned it first.
        }
      }
    }
    return StateHead{generation, label};
  });
}

}  // namespace orbitnest::keyd
