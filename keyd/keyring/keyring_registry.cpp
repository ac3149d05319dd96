#include "keyd/keyring/keyring_registry.h"

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <optional>
#include <random>
#include <set>
#include <thread>
#include <vector>

#include "keyd/keyring/jwk.h"
#include "keyd/pkcs11/objects.h"
#include "systemd/log.h"

namespace orbitnest::keyd {
namespace {

bool valid_project_ref(const std::string& ref) {
  if (ref.empty() || ref.size() > 63) {
    return false;
  }
  return std::all_of(ref.begin(), ref.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

p11::Algorithm algorithm_of(const std::string& name) { return p11::parse_algorithm(name).value(); }

// One lookup for the const and the mutable state.
template <typename State>
auto& find_keyring(State& state, const std::string& name) {
  const auto it = state.keyrings.find(name);
  if (it == state.keyrings.end()) {
    throw KeyringRefused("no keyring named '" + name + "'");
  }
  return it->second;
}

}  // namespace

KeyringKind keyring_kind(const Keyring& ring) {
  return ring.name == kAdminKeyring ? KeyringKind::admin : KeyringKind::project;
}

const Keyring& keyring_named(const KeydStateFile& state, const std::string& name) { return find_keyring(state, name); }
Keyring& keyring_named(KeydStateFile& state, const std::string& name) { return find_keyring(state, name); }

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

void audit_key_event(AuditLog& audit, const char* event, const Keyring& ring, const KeyVersion& v) {
  audit.append(AuditEvent{event, "", ring.name, v.kid, "ok", std::nullopt, "",
                          boost::json::object{{"version", v.version}, {"state", key_state_name(v.state)}}});
}

KeyringRegistry::KeyringRegistry(p11::Token& token, HandleCache& handles, AuditLog& audit,
                                 const config::KeydConfig& cfg)
    : m_token(token),
      m_handles(handles),
      m_audit(audit),
      m_cfg(cfg),
      m_state_path(cfg.state_directory + "/keyrings.json"),
      m_store(token) {}

void KeyringRegistry::load() {
  const std::unique_lock lock(m_mutex);
  reload_locked();
  if (m_head) {
    return;
  }
  // No state in the token: an install from before the state moved there
  // (import its file once), or a new token.
  std::optional<KeydStateFile> file = load_state(m_state_path);
  if (!file) {
    m_state = KeydStateFile{};  // the first write makes generation 1
    return;
  }
  m_state = std::move(*file);
  const std::optional<StateHead> written = m_store.commit(m_state, std::nullopt);
  if (!written) {
    reload_locked(true);  // another keyd put a state there first: it is the truth
    return;
  }
  m_head = written;
  log::notice("keyd.state_imported", {{"file", m_state_path}, {"keyrings", static_cast<std::int64_t>(m_state.keyrings.size())}});
  write_local_copy();
}

void KeyringRegistry::reload_locked(bool discard) {
  for (int attempt = 0; attempt < 5; ++attempt) {
    const std::optional<StateHead> head = m_store.head(m_head);
    if (!head) {
      if (m_head) {
        throw StateFileError("the token's keyring state objects are gone (generation " +
                             std::to_string(m_head->generation) + " was read before)");
      }
      if (discard) {
        m_state = KeydStateFile{};  // nothing was written yet: a lost first write leaves nothing
      }
      return;
    }
    if (!discard && m_head && m_head->label == head->label) {
      return;
    }
    std::optional<KeydStateFile> state = m_store.read(*head);
    if (!state) {
      continue;  // the head moved while it was read
    }
    if (m_head && state->generation < m_head->generation) {
      log::warning("keyd.state_generation_went_back", {{"had", static_cast<std::int64_t>(m_head->generation)},
                                                        {"token", static_cast<std::int64_t>(state->generation)}});
    }
    m_state = std::move(*state);
    m_head = head;
    write_local_copy();
    return;
  }
  throw StateConflict("the token's keyring state kept changing while it was read");
}

void KeyringRegistry::save_locked() {
  const std::optional<StateHead> written = m_store.commit(m_state, m_head);
  if (!written) {
    reload_locked(true);
    throw StateConflict("another keyd wrote the keyring state first (generation " +
                        std::to_string(m_state.generation) + ")");
  }
  m_head = written;
  write_local_copy();
}

void KeyringRegistry::write_local_copy() {
  try {
    save_state(m_state_path, m_state);
  } catch (const std::exception& e) {
    // Only a copy: the token holds the state.
    log::warning("keyd.state_copy_failed", {{"file", m_state_path}, {"reason", e.what()}});
  }
}

void KeyringRegistry::refresh(bool force) {
  const auto now = std::chrono::steady_clock::now();
  {
    const std::lock_guard lock(m_refresh_mutex);
    if (!force && now - m_checked < std::chrono::milliseconds(m_cfg.state_refresh_ms)) {
      return;
    }
    m_checked = now;
  }
  std::optional<StateHead> held;
  {
    const std::shared_lock lock(m_mutex);
    held = m_head;
  }
  const std::optional<StateHead> head = m_store.head(held);
  {
    const std::shared_lock lock(m_mutex);
    if (head && m_head && head->label == m_head->label) {
      return;
    }
    if (!head && !m_head) {
      return;
    }
  }
  const std::unique_lock lock(m_mutex);
  reload_locked();
}

void KeyringRegistry::back_off(int attempt) {
  static thread_local std::mt19937 rng(std::random_device{}());
  std::uniform_int_distribution<int> ms(5, 20 + 10 * std::min(attempt, 10));
  std::this_thread::sleep_for(std::chrono::milliseconds(ms(rng)));
}

std::string KeyringRegistry::new_key_label(const std::string& keyring, int version) {
  std::string label = signing_key_label(keyring, version);
  if (m_cfg.state_shared) {
    static const char* digits = "0123456789abcdef";
    label += ':';
    for (const std::uint8_t b : m_token.random_bytes(4)) {
      label += digits[b >> 4];
      label += digits[b & 15];
    }
  }
  return label;
}

void KeyringRegistry::reap_orphans(std::int64_t now) {
  if (!m_cfg.state_shared) {
    return;
  }
  refresh(true);
  std::set<std::string> live;
  std::set<std::string> retired;
  read([&](const KeydStateFile& state) {
    for (const auto& [name, ring] : state.keyrings) {
      for (const KeyVersion& v : ring.versions) {
        (v.state == KeyState::retired ? retired : live).insert(version_label(name, v));
      }
    }
    return 0;
  });
  const std::vector<std::string> present = m_token.with_session([](p11::Session& s) {
    return p11::labels_with_prefix(s, CKO_PRIVATE_KEY, kSigningLabelPrefix);
  });
  std::map<std::string, std::int64_t> still_unnamed;
  for (const std::string& label : present) {
    if (live.count(label) != 0) {
      continue;
    }
    const bool is_retired = retired.count(label) != 0;
    const auto seen = m_unnamed_since.find(label);
    const std::int64_t since = seen == m_unnamed_since.end() ? now : seen->second;
    if (!is_retired && now - since < m_cfg.rotation.verify_window_seconds) {
      still_unnamed[label] = since;
      continue;
    }
    try {
      m_handles.destroy(label);
      log::notice("keyd.orphan_key_destroyed", {{"label", label}, {"retired", is_retired}});
      m_audit.append(AuditEvent{"key_destroyed", "reap", "", "", "ok", std::nullopt, "",
                                boost::json::object{{"label", label}}});
    } catch (const std::exception& e) {
      log::info("keyd.orphan_key_not_destroyed", {{"label", label}, {"reason", e.what()}});  // another node did
    }
  }
  m_unnamed_since = std::move(still_unnamed);
}

KeyVersion KeyringRegistry::generate_version(const std::string& keyring, p11::Algorithm alg, int version,
                                             std::int64_t now) {
  const std::string label = new_key_label(keyring, version);
  const p11::PublicKey pub = m_token.with_session([&](p11::Session& s) {
    const p11::KeyPair pair = p11::generate_signing_key(s, alg, label);
    return p11::read_public_key(s, alg, pair.public_key);
  });
  KeyVersion v;
  v.version = version;
  if (label != signing_key_label(keyring, version)) {
    v.label = label;
  }
  v.kid = jwk_thumbprint(pub);
  v.state = KeyState::next;
  v.created = now;
  return v;
}

Keyring KeyringRegistry::create_keyring(const std::string& name, const std::string& issuer, p11::Algorithm alg) {
  const std::int64_t now = now_seconds();
  Keyring ring;
  ring.name = name;
  ring.issuer = issuer;
  ring.algorithm = alg;
  // The first key signs at once (nothing could have cached a JWKS yet);
  // its successor is published from the start.
  KeyVersion first = generate_version(name, alg, 1, now);
  first.state = KeyState::current;
  first.promoted = now;
  ring.versions.push_back(first);
  ring.versions.push_back(generate_version(name, alg, 2, now));
  return ring;
}

void KeyringRegistry::reconcile() {
  with_retries([&] {
  Exclusive x(*this);
  std::set<std::string> expected;
  std::set<std::string> retired;
  for (const auto& [name, ring] : m_state.keyrings) {
    int current = 0;
    for (const KeyVersion& v : ring.versions) {
      const std::string label = version_label(name, v);
      (v.state != KeyState::retired ? expected : retired).insert(label);
      current += v.state == KeyState::current ? 1 : 0;
    }
    if (current != 1) {
      throw std::runtime_error("keyring " + name + " has " + std::to_string(current) + " current keys");
    }
  }
  const std::vector<std::string> present = m_token.with_session([](p11::Session& s) {
    std::vector<std::string> labels = p11::labels_with_prefix(s, CKO_PRIVATE_KEY, kSigningLabelPrefix);
    const std::vector<std::string> pubs = p11::labels_with_prefix(s, CKO_PUBLIC_KEY, kSigningLabelPrefix);
    labels.insert(labels.end(), pubs.begin(), pubs.end());
    return labels;
  });
  const std::set<std::string> present_set(present.begin(), present.end());
  for (const std::string& label : present_set) {
    if (expected.count(label) == 0) {
      if (m_cfg.state_shared && retired.count(label) == 0) {
        // On a shared token it may be another keyd's rotation whose state
        // write is in flight: reap_orphans() destroys it once it stayed
        // unnamed for the verify window.
        continue;
      }
      // Generated by a rotation that did not reach its state write, or
      // retired but not yet destroyed: either way it never signs again.
      m_handles.destroy(label);
      log::notice("keyd.orphan_key_destroyed", {{"label", label}});
      m_audit.append(AuditEvent{"key_destroyed", "reconcile", "", "", "ok", std::nullopt, "",
                                boost::json::object{{"label", label}}});
    }
  }
  for (auto& [name, ring] : m_state.keyrings) {
    for (KeyVersion& v : ring.versions) {
      if (v.state == KeyState::retired) {
        continue;
      }
      const std::string label = version_label(name, v);
      if (present_set.count(label) != 0) {
        const bool locked_in = m_token.with_session([&](p11::Session& s) {
          const auto h = p11::find_by_label(s, CKO_PRIVATE_KEY, label);
          return h && p11::private_key_is_locked_in(s, *h);
        });
        if (!locked_in) {
          throw std::runtime_error("key " + label + " is missing its private half or could have been extracted");
        }
        continue;
      }
      if (v.state != KeyState::next) {
        throw std::runtime_error("the HSM lost key " + label + " (" + std::string(key_state_name(v.state)) + ")");
      }
      // A next key never signed: replacing it is safe.
      const int version = v.version;
      v = generate_version(name, ring.algorithm, version, now_seconds());
      x.save();
      log::warning("keyd.next_key_regenerated", {{"label", label}});
    }
  }
  return 0;
  });
}

void KeyringRegistry::ensure_admin_keyring() {
  with_retries([&] {
  Exclusive x(*this);
  if (m_state.keyrings.count(kAdminKeyring) != 0) {
    return 0;
  }
  const Keyring ring =
      create_keyring(kAdminKeyring, m_cfg.keyrings.admin_issuer, algorithm_of(m_cfg.keyrings.admin.algorithm));
  m_state.keyrings.emplace(kAdminKeyring, ring);
  x.save();
  m_audit.append(AuditEvent{"keyring_created", "", kAdminKeyring, "", "ok", std::nullopt, "", {}});
  for (const KeyVersion& v : ring.versions) {
    audit_key_event(m_audit, "key_generated", ring, v);
  }
  return 0;
  });
}

std::string KeyringRegistry::ensure_project_keyring(const std::string& ref, const AuditEvent& requested_by) {
  if (!valid_project_ref(ref)) {
    throw KeyringRefused("a project ref is 1-63 characters of a-z, 0-9 and '-'");
  }
  const std::string name = "project:" + ref;
  const std::string issuer = m_cfg.keyrings.project_issuer_prefix + ref + "/auth/v1";
  return with_retries([&]() -> std::string {
  Exclusive x(*this);
  if (m_state.keyrings.count(name) != 0) {
    return m_state.keyrings.at(name).issuer;
  }
  // Every keyring is two HSM keys and a state entry: authd's uid may not
  // grow them without bound.
  const auto projects = static_cast<std::size_t>(m_state.keyrings.size() - m_state.keyrings.count(kAdminKeyring));
  if (projects >= static_cast<std::size_t>(m_cfg.keyrings.max_project_keyrings)) {
    throw KeyringRefused("keyd holds " + std::to_string(projects) + " project keyrings, the maximum "
                         "(keyrings.max_project_keyrings); '" + ref + "' was not created");
  }
  AuditEvent intent = requested_by;
  intent.event = "keyring_create_requested";
  intent.keyring = name;
  m_audit.append(intent);  // fail closed: no record, no keyring
  const Keyring ring = create_keyring(name, issuer, algorithm_of(m_cfg.keyrings.project.algorithm));
  m_state.keyrings.emplace(name, ring);
  x.save();
  AuditEvent done = requested_by;
  done.event = "keyring_created";
  done.keyring = name;
  m_audit.append(done);
  for (const KeyVersion& v : ring.versions) {
    audit_key_event(m_audit, "key_generated", ring, v);
  }
  return issuer;
  });
}

}  // namespace orbitnest::keyd
