#pragma once
// libcbor items behind RAII, and the few strict reads WebAuthn needs:
// definite lengths only, no trailing bytes, no duplicate map keys. The
// parsing itself is libcbor's (the CBOR library libfido2 already uses);
// nothing here decodes CBOR by hand.
#include <cbor.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace orbitnest::authd::webauthn {

struct CborItemRelease {
  void operator()(cbor_item_t* item) const { cbor_decref(&item); }
};
using CborItem = std::unique_ptr<cbor_item_t, CborItemRelease>;

// The one CBOR item that `bytes` begins with, and how many bytes it took.
// nullopt for malformed CBOR or items nested too deep.
struct CborPrefix {
  CborItem item;
  std::size_t length;
};
std::optional<CborPrefix> load_cbor_prefix(std::string_view bytes);
// The one item that is all of `bytes` (trailing bytes refused).
CborItem load_cbor_exact(std::string_view bytes);  // null on failure

// A definite map's member by text key or integer key; nullptr if absent.
// Throws WebAuthnError(code) when the map repeats a key or is not
// definite (the caller says which code such a map earns).
const cbor_item_t* map_member(const cbor_item_t* map, std::string_view key, const char* code);
const cbor_item_t* map_member(const cbor_item_t* map, std::int64_t key, const char* code);

// Typed reads; nullopt when the item is absent or of another type.
std::optional<std::string> text_of(const cbor_item_t* item);
std::optional<std::string> bytes_of(const cbor_item_t* item);
std::optional<std::int64_t> int_of(const cbor_item_t* item);

// The canonical encoding of `item` (libcbor's serializer).
std::string serialize(const cbor_item_t* item);

}  // namespace orbitnest::authd::webauthn
