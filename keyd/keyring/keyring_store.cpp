#include "keyd/keyring/keyring_store.h"

#include <signal.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstdlib>
#include <set>

#include "keyd/keyring/base64url.h"
#include "keyd/keyring/jwk.h"
#include "keyd/keyring/public_key_pem.h"
#include "keyd/pkcs11/objects.h"
#include "keyd/pkcs11/secret_key.h"
#include "systemd/log.h"

namespace orbitnest::keyd {

void fault_point(const char* name) {
  const char* wanted = std::getenv("ORBITNEST_KEYD_FAULT");
  if (wanted != nullptr && std::string_view(wanted) == name) {
    log::warning("keyd.fault_injected", {{"point", name}});
    ::raise(SIGKILL);
  }
}

namespace {

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

bool valid_project_ref(const std::string& ref) {
  if (ref.empty() || ref.size() > 63) {
    return false;
  }
  return std::all_of(ref.begin(), ref.end(),
                     [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'; });
}

p11::Algorithm algorithm_of(const std::string& name) { return p11::parse_algorithm(name).value(); }

}  // namespace

KeyringStore::KeyringStore(p11::Token& token, AuditLog& audit, const config::KeydConfig& cfg)
    : m_token(token), m_audit(audit), m_cfg(cfg), m_state_path(cfg.state_directory + "/keyrings.json") {}

void KeyringStore::save() { save_state(m_state_path, m_state); }

CK_OBJECT_HANDLE KeyringStore::handle(CK_OBJECT_CLASS cls, const std::string& label) {
  const std::string key = std::to_string(cls) + ":" + label;
  {
    const std::lock_guard lock(m_handles_mutex);
    const auto it = m_handles.find(key);
    if (it != m_handles.end()) {
      return it->second;
    }
  }
  const std::optional<CK_OBJECT_HANDLE> h =
      m_token.with_session([&](p11::Session& s) { return p11::find_by_label(s, cls, label); });
  if (!h) {
    throw std::runtime_error("HSM object missing: " + label);
  }
  const std::lock_guard lock(m_handles_mutex);
  m_handles[key] = *h;
  return *h;
}

void KeyringStore::destroy_label(const std::string& label) {
  m_token.with_session([&](p11::Session& s) {
    for (const CK_OBJECT_CLASS cls : {CKO_PRIVATE_KEY, CKO_PUBLIC_KEY, CKO_SECRET_KEY}) {
      if (const std::optional<CK_OBJECT_HANDLE> h = p11::find_by_label(s, cls, label)) {
        p11::destroy_object(s, *h);
      }
    }
    return 0;
  });
  const std::lock_guard lock(m_handles_mutex);
  for (auto it = m_handles.begin(); it != m_handles.end();) {
    if (it->first.substr(it->first.find(':') + 1) == label) {
      it = m_handles.erase(it);
    } else {
      ++it;
    }
  }
}

KeyVersion KeyringStore::generate_version(const std::string& keyring, p11::Algorithm alg, int version,
                                          std::int64_t now) {
  const std::string label = signing_key_label(keyring, version);
  const p11::PublicKey pub = m_token.with_session([&](p11::Session& s) {
    const p11::KeyPair pair = p11::generate_signing_key(s, alg, label);
    return p11::read_public_key(s, alg, pair.public_key);
  });
  KeyVersion v;
  v.version = version;
  v.kid = jwk_thumbprint(pub);
  v.state = KeyState::next;
  v.created = now;
  return v;
}

Keyring KeyringStore::create_keyring(const std::string& name, const std::string& issuer, p11::Algorithm alg) {
  const std::int64_t now = unix_now();
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

void KeyringStore::open() {
  const std::unique_lock lock(m_mutex);
  std::optional<KeydStateFile> loaded = load_state(m_state_path);
  m_state = loaded ? std::move(*loaded) : KeydStateFile{};
  if (m_state.audit_key_version == 0) {
    m_token.with_session([&](p11::Session& s) { return p11::generate_signing_key(s, p11::Algorithm::es256, audit_key_label(1)); });
    m_state.audit_key_version = 1;
    save();
  }
  // Before anything else is recorded: the log keyd continues must verify
  // with the HSM audit key, and its head gets a checkpoint.
  m_audit.start_signing([this](std::string_view msg) { return audit_sign(msg); },
                        audit_key_label(m_state.audit_key_version), audit_public_key_pem());
  reconcile();
  bool changed = false;
  for (const bool sealing : {true, false}) {
    SymmetricKeyVersions& v = sealing ? m_state.sealing : m_state.pepper;
    if (v.current == 0) {
      const std::string label = sealing ? sealing_key_label(1) : pepper_key_label(1);
      m_token.with_session([&](p11::Session& s) {
        return p11::generate_secret_key(s, sealing ? p11::SecretKeyKind::aes_gcm_256 : p11::SecretKeyKind::hmac_sha256,
                                        label);
      });
      v.current = 1;
      v.versions = {1};
      changed = true;
    }
  }
  if (changed) {
    save();
  }
  if (m_state.keyrings.count("admin") == 0) {
    Keyring ring = create_keyring("admin", m_cfg.keyrings.admin_issuer, algorithm_of(m_cfg.keyrings.admin.algorithm));
    m_state.keyrings.emplace("admin", ring);
    save();
    m_audit.append(AuditEvent{"keyring_created", "", "admin", "", "ok", std::nullopt, "", {}});
    for (const KeyVersion& v : ring.versions) {
      audit_key_event("key_generated", ring, v);
    }
  }
  m_jwks.clear();
}

void KeyringStore::reconcile() {
  std::set<std::string> expected;
  for (const auto& [name, ring] : m_state.keyrings) {
    int current = 0;
    for (const KeyVersion& v : ring.versions) {
      const std::string label = signing_key_label(name, v.version);
      if (v.state != KeyState::retired) {
        expected.insert(label);
      }
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
      // Generated by a rotation that did not reach its state write, or
      // retired but not yet destroyed: either way it never signs again.
      destroy_label(label);
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
      const std::string label = signing_key_label(name, v.version);
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
      v = generate_version(name, ring.algorithm, version, unix_now());
      save();
      log::warning("keyd.next_key_regenerated", {{"label", label}});
    }
  }
}

ClaimsPolicy KeyringStore::policy_for(const Keyring& ring) const {
  const bool admin = ring.name == "admin";
  const config::KeyringRulesConfig& rules = admin ? m_cfg.keyrings.admin : m_cfg.keyrings.project;
  // An allowlist per kind: the admin keyring signs its configured roles, a
  // project keyring only authenticated/anon (config load refuses others;
  // this keeps the rule where the signature is made).
  std::vector<std::string> roles;
  for (const std::string& role : rules.roles) {
    if (admin || std::find(std::begin(config::kProjectRoles), std::end(config::kProjectRoles), role) !=
                     std::end(config::kProjectRoles)) {
      roles.push_back(role);
    }
  }
  return ClaimsPolicy{ring.issuer, rules.audiences, std::move(roles), m_cfg.keyrings.max_token_lifetime_seconds,
                      m_cfg.keyrings.clock_skew_seconds};
}

std::string KeyringStore::sign_jwt(const std::string& keyring, const std::string& claims_json) {
  ClaimsPolicy policy;
  p11::Algorithm alg{};
  std::string kid;
  std::string label;
  {
    const std::shared_lock lock(m_mutex);
    const auto it = m_state.keyrings.find(keyring);
    if (it == m_state.keyrings.end()) {
      throw KeyringRefused("no keyring named '" + keyring + "'");
    }
    const KeyVersion* current = it->second.find(KeyState::current);
    policy = policy_for(it->second);
    alg = it->second.algorithm;
    kid = current->kid;
    label = signing_key_label(keyring, current->version);
  }
  const std::int64_t now = unix_now();
  std::string payload;
  try {
    payload = check_claims(claims_json, policy, now);
  } catch (const ClaimsRejected& e) {
    throw KeyringRefused(std::string("claims refused: ") + e.what());
  }
  const boost::json::object header{{"alg", p11::algorithm_info(alg).jose_name}, {"kid", kid}, {"typ", "JWT"}};
  const std::string signing_input =
      base64url_encode(boost::json::serialize(header)) + "." + base64url_encode(payload);
  const CK_OBJECT_HANDLE key = handle(CKO_PRIVATE_KEY, label);
  const std::string sig =
      m_token.with_session([&](p11::Session& s) { return p11::sign_message(s, alg, key, signing_input); });
  {
    const std::lock_guard lock(m_stats_mutex);
    SignStats& st = m_stats[kid];
    ++st.total;
    if (st.since_summary++ == 0) {
      st.first = now;
    }
    st.last = now;
  }
  return signing_input + "." + base64url_encode(sig);
}

std::string KeyringStore::jwks(const std::string& keyring) {
  {
    const std::shared_lock lock(m_mutex);
    const auto cached = m_jwks.find(keyring);
    if (cached != m_jwks.end()) {
      return cached->second;
    }
  }
  const std::unique_lock lock(m_mutex);
  const auto it = m_state.keyrings.find(keyring);
  if (it == m_state.keyrings.end()) {
    throw KeyringRefused("no keyring named '" + keyring + "'");
  }
  const Keyring& ring = it->second;
  boost::json::array keys;
  for (const KeyState wanted : {KeyState::current, KeyState::next, KeyState::previous}) {
    for (const KeyVersion& v : ring.versions) {
      if (v.state != wanted) {
        continue;
      }
      const CK_OBJECT_HANDLE pub = handle(CKO_PUBLIC_KEY, signing_key_label(ring.name, v.version));
      const p11::PublicKey key =
          m_token.with_session([&](p11::Session& s) { return p11::read_public_key(s, ring.algorithm, pub); });
      keys.push_back(to_jwk(key, v.kid));
    }
  }
  std::string out = boost::json::serialize(boost::json::object{{"keys", keys}});
  m_jwks[keyring] = out;
  return out;
}

std::string KeyringStore::ensure_project_keyring(const std::string& ref, const AuditEvent& requested_by) {
  if (!valid_project_ref(ref)) {
    throw KeyringRefused("a project ref is 1-63 characters of a-z, 0-9 and '-'");
  }
  const std::string name = "project:" + ref;
  const std::string issuer = m_cfg.keyrings.project_issuer_prefix + ref + "/auth/v1";
  const std::unique_lock lock(m_mutex);
  if (m_state.keyrings.count(name) != 0) {
    return m_state.keyrings.at(name).issuer;
  }
  // Every keyring is two HSM keys and a state entry: authd's uid may not
  // grow them without bound.
  const auto projects = static_cast<std::size_t>(m_state.keyrings.size() - m_state.keyrings.count("admin"));
  if (projects >= static_cast<std::size_t>(m_cfg.keyrings.max_project_keyrings)) {
    throw KeyringRefused("keyd holds " + std::to_string(projects) + " project keyrings, the maximum "
                         "(keyrings.max_project_keyrings); '" + ref + "' was not created");
  }
  AuditEvent intent = requested_by;
  intent.event = "keyring_create_requested";
  intent.keyring = name;
  m_audit.append(intent);  // fail closed: no record, no keyring
  Keyring ring = create_keyring(name, issuer, algorithm_of(m_cfg.keyrings.project.algorithm));
  m_state.keyrings.emplace(name, ring);
  save();
  AuditEvent done = requested_by;
  done.event = "keyring_created";
  done.keyring = name;
  m_audit.append(done);
  for (const KeyVersion& v : ring.versions) {
    audit_key_event("key_generated", ring, v);
  }
  return issuer;
}

void KeyringStore::audit_key_event(const char* event, const Keyring& ring, const KeyVersion& v) {
  m_audit.append(AuditEvent{event, "", ring.name, v.kid, "ok", std::nullopt, "",
                            boost::json::object{{"version", v.version}, {"state", key_state_name(v.state)}}});
}

KeyInfo KeyringStore::info_of(const Keyring& ring, const KeyVersion& v) {
  KeyInfo info;
  info.keyring = ring.name;
  info.key = v;
  info.algorithm = std::string(p11::algorithm_info(ring.algorithm).jose_name);
  if (v.state == KeyState::previous) {
    info.retires_at = v.demoted + m_cfg.rotation.verify_window_seconds;
  }
  const std::lock_guard lock(m_stats_mutex);
  const auto it = m_stats.find(v.kid);
  info.signatures = it == m_stats.end() ? 0 : it->second.total;
  return info;
}

std::vector<KeyInfo> KeyringStore::list(const std::string& keyring_filter) {
  const std::shared_lock lock(m_mutex);
  if (!keyring_filter.empty() && m_state.keyrings.count(keyring_filter) == 0) {
    throw KeyringRefused("no keyring named '" + keyring_filter + "'");
  }
  std::vector<KeyInfo> out;
  for (const auto& [name, ring] : m_state.keyrings) {
    if (!keyring_filter.empty() && name != keyring_filter) {
      continue;
    }
    for (const KeyVersion& v : ring.versions) {
      out.push_back(info_of(ring, v));
    }
  }
  return out;
}

void KeyringStore::flush_sign_summaries() {
  std::map<std::string, SignStats> pending;
  {
    const std::lock_guard lock(m_stats_mutex);
    for (auto& [kid, st] : m_stats) {
      if (st.since_summary > 0) {
        pending[kid] = st;
        st.since_summary = 0;
      }
    }
  }
  for (const auto& [kid, st] : pending) {
    m_audit.append(AuditEvent{"signatures", "sign_jwt", "", kid, "ok", std::nullopt, "",
                              boost::json::object{{"count", st.since_summary}, {"first", st.first}, {"last", st.last}}});
  }
}

SymmetricKey KeyringStore::current_symmetric(bool sealing) {
  int version = 0;
  {
    const std::shared_lock lock(m_mutex);
    version = sealing ? m_state.sealing.current : m_state.pepper.current;
  }
  return SymmetricKey{version, handle(CKO_SECRET_KEY, sealing ? sealing_key_label(version) : pepper_key_label(version))};
}

std::optional<SymmetricKey> KeyringStore::symmetric(bool sealing, int version) {
  {
    const std::shared_lock lock(m_mutex);
    const std::vector<int>& versions = sealing ? m_state.sealing.versions : m_state.pepper.versions;
    if (std::find(versions.begin(), versions.end(), version) == versions.end()) {
      return std::nullopt;
    }
  }
  return SymmetricKey{version,
                      handle(CKO_SECRET_KEY, sealing ? sealing_key_label(version) : pepper_key_label(version))};
}

std::string KeyringStore::audit_sign(std::string_view message) {
  const CK_OBJECT_HANDLE key = handle(CKO_PRIVATE_KEY, audit_key_label(m_state.audit_key_version));
  return m_token.with_session(
      [&](p11::Session& s) { return p11::sign_message(s, p11::Algorithm::es256, key, message); });
}

}  // namespace orbitnest::keyd

namespace orbitnest::keyd {

std::string KeyringStore::audit_public_key_pem() {
  const CK_OBJECT_HANDLE pub = handle(CKO_PUBLIC_KEY, audit_key_label(m_state.audit_key_version));
  const p11::PublicKey key =
      m_token.with_session([&](p11::Session& s) { return p11::read_public_key(s, p11::Algorithm::es256, pub); });
  return ec_public_key_pem(key);
}

}  // namespace orbitnest::keyd
