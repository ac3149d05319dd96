#pragma once
// keyd's durable state: which key versions exist per keyring and where
// each is in its life (next → current → previous → retired), plus the
// versions of the sealing, pepper and audit keys. The HSM holds the keys;
// this file says what they are for. Written atomically (temp file, fsync,
// rename, fsync of the folder), so a crash leaves the old or the new file.
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "keyd/pkcs11/signing_key.h"

namespace orbitnest::keyd {

enum class KeyState { next, current, previous, retired };
std::string_view key_state_name(KeyState s);

struct KeyVersion {
  int version = 0;
  std::string kid;
  KeyState state = KeyState::next;
  std::int64_t created = 0;   // generated (and published) at
  std::int64_t promoted = 0;  // became current at (0: never)
  std::int64_t demoted = 0;   // became previous at (0: never)
  std::int64_t retired = 0;   // unpublished and destroyed at (0: never)
  // The key pair's HSM label; empty for keys made before labels were kept
  // (their label is signing_key_label(keyring, version)). On a shared
  // token labels carry a random suffix: two nodes may make version N of
  // the same keyring at once.
  std::string label;
};

struct Keyring {
  std::string name;  // "admin" or "project:<ref>"
  p11::Algorithm algorithm = p11::Algorithm::es256;
  std::string issuer;
  std::vector<KeyVersion> versions;

  const KeyVersion* find(KeyState s) const;
  KeyVersion* find(KeyState s);
  int highest_version() const;
};

// Versions of a symmetric key (sealing, pepper): old versions stay usable
// for opening/verifying until an operator retires them.
struct SymmetricKeyVersions {
  int current = 0;
  std::vector<int> versions;
};

struct KeydStateFile {
  // Bumped by every write; the token object of this state is labelled
  // with it (keyd/keyring/token_state.h). 0: never written to a token.
  std::uint64_t generation = 0;
  std::map<std::string, Keyring> keyrings;
  SymmetricKeyVersions sealing;
  SymmetricKeyVersions pepper;
  int audit_key_version = 0;
};

class StateFileError final : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

std::string serialize_state(const KeydStateFile& state);
KeydStateFile parse_state(const std::string& text);
// nullopt when the file does not exist yet.
std::optional<KeydStateFile> load_state(const std::string& path);
void save_state(const std::string& path, const KeydStateFile& state);

// HSM labels (and CKA_IDs) of the objects behind the state.
std::string signing_key_label(const std::string& keyring, int version);
// The label of `v`'s key pair in `keyring` (its own, or the legacy one).
std::string version_label(const std::string& keyring, const KeyVersion& v);
std::string sealing_key_label(int version);
std::string pepper_key_label(int version);
std::string audit_key_label(int version);
inline constexpr const char* kSigningLabelPrefix = "orbitnest:jws:";

}  // namespace orbitnest::keyd
