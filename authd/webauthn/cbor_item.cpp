#include "authd/webauthn/cbor_item.h"

#include <cstdlib>
#include <set>
#include <type_traits>
#include <vector>

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

// What cbor_load is given is checked first by a pass of libcbor's own
// streaming decoder, which allocates nothing: the first item must be
// complete and definite, and no array or map may claim more items than
// the input has bytes. Two reasons: libcbor allocates a container for the
// count its header claims before reading the items (9 bytes could ask for
// gigabytes), and libcbor 0.8 leaks a map's pending key when cbor_load
// fails half-way (found by fuzz_webauthn) — so cbor_load only ever sees
// input it will load whole, and no tags.
struct Structure {
  std::size_t limit = 0;
  std::vector<std::uint64_t> open;  // items still due in each open container
  bool ok = true;
  bool done = false;  // the first item is complete
};

void item(void* context) {
  auto* st = static_cast<Structure*>(context);
  while (!st->open.empty()) {
    if (--st->open.back() != 0) {
      return;
    }
    st->open.pop_back();
  }
  st->done = true;
}
void container(Structure* st, std::uint64_t due) {
  if (due > st->limit) {
    st->ok = false;
    return;
  }
  if (due == 0) {
    item(st);
  } else {
    st->open.push_back(due);
  }
}
void on_array(void* c, std::size_t n) { container(static_cast<Structure*>(c), n); }
void on_map(void* c, std::size_t n) { container(static_cast<Structure*>(c), 2 * static_cast<std::uint64_t>(n)); }
void on_refused(void* c) { static_cast<Structure*>(c)->ok = false; }
void on_u8(void* c, std::uint8_t) { item(c); }
void on_u16(void* c, std::uint16_t) { item(c); }
void on_u32(void* c, std::uint32_t) { item(c); }
void on_u64(void* c, std::uint64_t) { item(c); }
void on_string(void* c, cbor_data, std::size_t) { item(c); }
void on_float(void* c, float) { item(c); }
void on_double(void* c, double) { item(c); }
void on_bool(void* c, bool) { item(c); }
// CTAP2's canonical CBOR has no tags, and libcbor 0.8 leaks tagged items
// it loads (fuzz_webauthn again): refused.
void on_tag(void* c, std::uint64_t) { static_cast<Structure*>(c)->ok = false; }

// The length of the complete first item of `bytes`, or nullopt.
std::optional<std::size_t> first_item_length(std::string_view bytes) {
  cbor_callbacks cb = cbor_empty_callbacks;
  cb.uint8 = cb.negint8 = on_u8;
  cb.uint16 = cb.negint16 = on_u16;
  cb.uint32 = cb.negint32 = on_u32;
  cb.uint64 = cb.negint64 = on_u64;
  cb.byte_string = cb.string = on_string;
  cb.byte_string_start = cb.string_start = cb.indef_array_start = cb.indef_map_start = cb.indef_break = on_refused;
  cb.array_start = on_array;
  cb.map_start = on_map;
  cb.tag = on_tag;
  cb.float2 = cb.float4 = on_float;
  cb.float8 = on_double;
  cb.undefined = cb.null = item;
  cb.boolean = on_bool;
  Structure st;
  st.limit = bytes.size();
  std::size_t offset = 0;
  while (st.ok && !st.done) {
    if (offset >= bytes.size() || st.open.size() > static_cast<std::size_t>(kMaxDepth)) {
      return std::nullopt;
    }
    const cbor_decoder_result r = cbor_stream_decode(reinterpret_cast<cbor_data>(bytes.data()) + offset,
                                                     bytes.size() - offset, &cb, &st);
    if (r.status != CBOR_DECODER_FINISHED || r.read == 0) {
      return std::nullopt;
    }
    offset += r.read;
  }
  return st.ok ? std::optional<std::size_t>(offset) : std::nullopt;
}

// A map's member by key, its keys checked for repeats on the way (the
// integer and the text keys apart: COSE uses the one, WebAuthn the other).
template <class Key>
const cbor_item_t* find(const cbor_item_t* map, const Key& wanted, const char* code) {
  if (map == nullptr || !cbor_isa_map(map) || !cbor_map_is_definite(map)) {
    throw WebAuthnError(code, "expected a CBOR map");
  }
  const cbor_pair* pairs = cbor_map_handle(map);
  std::set<std::int64_t> ints;
  std::set<std::string> texts;
  const cbor_item_t* found = nullptr;
  for (std::size_t i = 0; i < cbor_map_size(map); ++i) {
    bool matched = false;
    if (const std::optional<std::int64_t> k = int_of(pairs[i].key)) {
      if (!ints.insert(*k).second) {
        throw WebAuthnError(code, "a CBOR map repeats a key");
      }
      if constexpr (std::is_same_v<Key, std::int64_t>) {
        matched = *k == wanted;
      }
    } else if (const std::optional<std::string> t = text_of(pairs[i].key)) {
      if (!texts.insert(*t).second) {
        throw WebAuthnError(code, "a CBOR map repeats a key");
      }
      if constexpr (std::is_same_v<Key, std::string_view>) {
        matched = *t == wanted;
      }
    }
    if (matched) {
      found = pairs[i].value;
    }
  }
  return found;
}

}  // namespace

std::optional<CborPrefix> load_cbor_prefix(std::string_view bytes) {
  const std::optional<std::size_t> length = first_item_length(bytes);
  if (!length) {
    return std::nullopt;
  }
  cbor_load_result result{};
  CborItem loaded(cbor_load(reinterpret_cast<cbor_data>(bytes.data()), *length, &result));
  if (!loaded || result.error.code != CBOR_ERR_NONE || result.read != *length ||
      !definite_and_shallow(loaded.get(), 0)) {
    return std::nullopt;
  }
  return CborPrefix{std::move(loaded), *length};
}

CborItem load_cbor_exact(std::string_view bytes) {
  std::optional<CborPrefix> prefix = load_cbor_prefix(bytes);
  if (!prefix || prefix->length != bytes.size()) {
    return nullptr;
  }
  return std::move(prefix->item);
}

const cbor_item_t* map_member(const cbor_item_t* map, std::string_view key, const char* code) {
  return find(map, key, code);
}

const cbor_item_t* map_member(const cbor_item_t* map, std::int64_t key, const char* code) {
  return find(map, key, code);
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
