#include "authd/webauthn/authenticator_data.h"

#include "authd/webauthn/cbor_item.h"
#include "authd/webauthn/webauthn_error.h"

namespace orbitnest::authd::webauthn {
namespace {

constexpr const char* kMalformed = "webauthn_malformed";
constexpr std::size_t kHeader = 37;  // rpIdHash 32, flags 1, signCount 4
constexpr std::size_t kMaxCredentialId = 1023;  // §7.1 step 25

[[noreturn]] void malformed(const std::string& what) {
  throw WebAuthnError(kMalformed, "authenticatorData: " + what);
}

AuthenticatorExtensions read_extensions(const cbor_item_t* map) {
  if (!cbor_isa_map(map)) {
    malformed("the extensions are not a map");
  }
  AuthenticatorExtensions ext;
  if (const cbor_item_t* v = map_member(map, "hmac-secret", kMalformed)) {
    ext.hmac_secret = cbor_isa_float_ctrl(v) && cbor_get_bool(v);
  }
  if (const std::optional<std::int64_t> level = int_of(map_member(map, "credProtect", kMalformed))) {
    if (*level < 1 || *level > 3) {
      malformed("credProtect out of range");
    }
    ext.cred_protect = static_cast<int>(*level);
  }
  if (const cbor_item_t* v = map_member(map, "credBlob", kMalformed)) {
    ext.cred_blob = cbor_isa_float_ctrl(v) && cbor_get_bool(v);
  }
  if (const std::optional<std::int64_t> len = int_of(map_member(map, "minPinLength", kMalformed))) {
    if (*len < 0 || *len > 255) {
      malformed("minPinLength out of range");
    }
    ext.min_pin_length = static_cast<int>(*len);
  }
  return ext;
}

}  // namespace

AuthenticatorData parse_authenticator_data(std::string_view bytes) {
  if (bytes.size() < kHeader) {
    malformed("shorter than 37 bytes");
  }
  AuthenticatorData ad;
  ad.raw = std::string(bytes);
  ad.rp_id_hash = std::string(bytes.substr(0, 32));
  ad.flags = static_cast<std::uint8_t>(bytes[32]);
  ad.sign_count = (static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[33])) << 24) |
                  (static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[34])) << 16) |
                  (static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[35])) << 8) |
                  static_cast<std::uint32_t>(static_cast<std::uint8_t>(bytes[36]));
  std::string_view rest = bytes.substr(kHeader);
  if ((ad.flags & kFlagAt) != 0) {
    if (rest.size() < 18) {
      malformed("attested credential data cut short");
    }
    AttestedCredential cred;
    cred.aaguid = std::string(rest.substr(0, 16));
    const std::size_t id_length = (static_cast<std::size_t>(static_cast<std::uint8_t>(rest[16])) << 8) |
                                  static_cast<std::size_t>(static_cast<std::uint8_t>(rest[17]));
    rest.remove_prefix(18);
    if (id_length == 0 || id_length > kMaxCredentialId || rest.size() < id_length) {
      malformed("credential id length out of range");
    }
    cred.credential_id = std::string(rest.substr(0, id_length));
    rest.remove_prefix(id_length);
    std::optional<CborPrefix> key = load_cbor_prefix(rest);
    if (!key) {
      malformed("the credential public key is not CBOR");
    }
    cred.public_key_cose = std::string(rest.substr(0, key->length));
    rest.remove_prefix(key->length);
    ad.attested = std::move(cred);
  }
  if ((ad.flags & kFlagEd) != 0) {
    std::optional<CborPrefix> ext = load_cbor_prefix(rest);
    if (!ext) {
      malformed("the extensions are not CBOR");
    }
    ad.extensions = read_extensions(ext->item.get());
    rest.remove_prefix(ext->length);
  }
  if (!rest.empty()) {
    malformed("trailing bytes");  // libfido2 1.12 would not notice them
  }
  if (ad.bs() && !ad.be()) {
    throw WebAuthnError(kMalformed, "authenticatorData: backup state set without backup eligibility");  // §7.1 s17
  }
  return ad;
}

}  // namespace orbitnest::authd::webauthn
