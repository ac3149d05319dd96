#include "authd/webauthn/cbor_item.h"

#include <cstdlib>
#include <set>
#include <variant>

#include "authd/webauthn/webauthn_error.h"

namespace orbitnest::authd::webauthn {
namespace {

constexpr int kMaxDepth = 16;

// libcbor accepts indefinite lengths and any nesting; WebAuthn's
// structures are definite and shallow (CTAP2 canonical CBOR).
bool definite_and_shallow(const cbor_item_t* item, int depth) {
  if (depth > kMaxDepth) {
    return false;
  }
  switch (cbor_typeof(item)) {
    case CBOR_TYPE_BYTESTRING: return cbor_bytestring_is_definite(item);
    case CBOR_TYPE_STRING: return cbor_string_is_definite(item);
    case CBOR_TYPE_ARRAY: {
      if (!cbor_array_is_definite(item)) {
        return false;
      }
      cbor_item_t** items = cbor_array_handle(item);
      for (std::size_t i = 0; i < cbor_array_size(item); ++i) {
        if (!definite_and_shallow(items[i], depth + 1)) {
          return false;
        }
      }
      return true;
    }
    case CBOR_TYPE_MAP: {
      if (!cbor_map_is_definite(item)) {
        return false;
      }
      cbor_pair* pairs = cbor_map_handle(item);
      for (std::size_t i = 0; i < cbor_map_size(item); ++i) {
        if (!definite_and_shallow(pairs[i].key, depth + 1) || !definite_and_shallow(pairs[i].value, depth + 1)) {
          return false;
        }
      }
      return true;
    }
    case CBOR_TYPE_TAG: return definite_and_shallow(cbor_tag_item(item), depth + 1);
    default: return true;
  }
}

using MapKey = std::variant<std::int64_t, std::string>;

std::optional<MapKey> key_of(const cbor_item_t* key) {
  if (std::optional<std::int64_t> i = int_of(key)) {
    return MapKey{*i};
  }
  if (std::optional<std::string> s = text_of(key)) {
    return MapKey{*s};
  }
  return std::nullopt;
}

const cbor_item_t* find(const cbor_item_t* map, const MapKey& wanted, const char* code) {
  if (map == nullptr || !cbor_isa_map(map) || !cbor_map_is_definite(map)) {
    throw WebAuthnError(code, "expected a CBOR map");
  }
  const cbor_pair* pairs = cbor_map_handle(map);
  std::set<MapKey> seen;
  const cbor_item_t* found = nullptr;
  for (std::size_t i = 0; i < cbor_map_size(map); ++i) {
    const std::optional<MapKey> k = key_of(pairs[i].key);
    if (!k) {
      continue;  // keys of other types: not ours, not compared
    }
    if (!seen.insert(*k).second) {
      throw WebAuthnError(code, "a CBOR map repeats a key");
    }
    if (*k == wanted) {
      found = pairs[i].value;
    }
  }
  return found;
}

}  // namespace

std::optional<CborPrefix> load_cbor_prefix(std::string_view bytes) {
  if (bytes.empty()) {
    return std::nullopt;
  }
  cbor_load_result result{};
  CborItem item(cbor_load(reinterpret_cast<cbor_data>(bytes.data()), bytes.size(), &result));
  if (!item || result.error.code != CBOR_ERR_NONE || !definite_and_shallow(item.get(), 0)) {
    return std::nullopt;
  }
  return CborPrefix{std::move(item), result.read};
}

CborItem load_cbor_exact(std::string_view bytes) {
  std::optional<CborPrefix> prefix = load_cbor_prefix(bytes);
  if (!prefix || prefix->length != bytes.size()) {
    return nullptr;
  }
  return std::move(prefix->item);
}

const cbor_item_t* map_member(const cbor_item_t* map, std::string_view key, const char* code) {
  return find(map, MapKey{std::string(key)}, code);
}

const cbor_item_t* map_member(const cbor_item_t* map, std::int64_t key, const char* code) {
  return find(map, MapKey{key}, code);
}

std::optional<std::string> text_of(const cbor_item_t* item) {
  if (item == nullptr || !cbor_isa_string(item) || !cbor_string_is_definite(item)) {
    return std::nullopt;
  }
  return std::string(reinterpret_cast<const char*>(cbor_string_handle(item)), cbor_string_length(item));
}

std::optional<std::string> bytes_of(const cbor_item_t* item) {
  if (item == nullptr || !cbor_isa_bytestring(item) || !cbor_bytestring_is_definite(item)) {
    return std::nullopt;
  }
  return std::string(reinterpret_cast<const char*>(cbor_bytestring_handle(item)), cbor_bytestring_length(item));
}

std::optional<std::int64_t> int_of(const cbor_item_t* item) {
  if (item == nullptr) {
    return std::nullopt;
  }
  if (cbor_isa_uint(item)) {
    const std::uint64_t v = cbor_get_int(item);
    if (v > static_cast<std::uint64_t>(INT64_MAX)) {
      return std::nullopt;
    }
    return static_cast<std::int64_t>(v);
  }
  if (cbor_isa_negint(item)) {
    const std::uint64_t v = cbor_get_int(item);  // the value is -1 - v
    if (v > static_cast<std::uint64_t>(INT64_MAX)) {
      return std::nullopt;
    }
    return -1 - static_cast<std::int64_t>(v);
  }
  return std::nullopt;
}

std::string serialize(const cbor_item_t* item) {
  unsigned char* buffer = nullptr;
  std::size_t capacity = 0;
  const std::size_t length = cbor_serialize_alloc(item, &buffer, &capacity);
  std::unique_ptr<unsigned char, decltype(&std::free)> owned(buffer, &std::free);
  if (length == 0) {
    return {};
  }
  return std::string(reinterpret_cast<const char*>(buffer), length);
}

}  // namespace orbitnest::authd::webauthn
