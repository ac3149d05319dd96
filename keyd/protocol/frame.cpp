#include "keyd/protocol/frame.h"

namespace orbitnest::keyd {
namespace {

void put_u16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v & 0xff));
}

void put_u32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<std::uint8_t>((v >> shift) & 0xff));
  }
}

std::uint16_t get_u16(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
}

std::uint32_t get_u32(std::span<const std::uint8_t> b, std::size_t at) {
  return (static_cast<std::uint32_t>(b[at]) << 24) | (static_cast<std::uint32_t>(b[at + 1]) << 16) |
         (static_cast<std::uint32_t>(b[at + 2]) << 8) | static_cast<std::uint32_t>(b[at + 3]);
}

}  // namespace

std::vector<std::uint8_t> encode_frame(const Frame& frame) {
  if (frame.fields.size() > kMaxFields) {
    throw FrameError("too many fields");
  }
  std::vector<std::uint8_t> out;
  out.reserve(kHeaderBytes + 64);
  out.push_back(frame.version);
  out.push_back(static_cast<std::uint8_t>(frame.kind));
  put_u16(out, frame.op);
  put_u32(out, frame.request_id);
  put_u16(out, static_cast<std::uint16_t>(frame.status));
  put_u16(out, 0);
  for (const std::string& field : frame.fields) {
    if (field.size() > kMaxFieldBytes) {
      throw FrameError("field too large");
    }
    put_u32(out, static_cast<std::uint32_t>(field.size()));
    out.insert(out.end(), field.begin(), field.end());
  }
  if (out.size() > kMaxFrameBytes) {
    throw FrameError("frame too large");
  }
  return out;
}

Frame decode_frame(std::span<const std::uint8_t> bytes) {
  if (bytes.size() < kHeaderBytes) {
    throw FrameError("frame shorter than its header");
  }
  if (bytes.size() > kMaxFrameBytes) {
    throw FrameError("frame larger than the limit");
  }
  Frame frame;
  frame.version = bytes[0];
  if (bytes[1] > 1) {
    throw FrameError("unknown frame kind");
  }
  frame.kind = static_cast<FrameKind>(bytes[1]);
  frame.op = get_u16(bytes, 2);
  frame.request_id = get_u32(bytes, 4);
  frame.status = static_cast<Status>(get_u16(bytes, 8));
  if (get_u16(bytes, 10) != 0) {
    throw FrameError("reserved header bytes are not zero");
  }
  std::size_t at = kHeaderBytes;
  while (at < bytes.size()) {
    if (frame.fields.size() == kMaxFields) {
      throw FrameError("too many fields");
    }
    if (bytes.size() - at < 4) {
      throw FrameError("truncated field length");
    }
    const std::uint32_t len = get_u32(bytes, at);
    at += 4;
    if (len > bytes.size() - at) {
      throw FrameError("field runs past the end of the frame");
    }
    frame.fields.emplace_back(reinterpret_cast<const char*>(bytes.data() + at), len);
    at += len;
  }
  return frame;
}

std::string_view FieldReader::bytes() {
  if (m_next >= m_fields.size()) {
    throw FrameError("missing field");
  }
  return m_fields[m_next++];
}

namespace {

std::uint64_t big_endian_field(std::string_view b, std::size_t width) {
  if (b.size() != width) {
    throw FrameError("a " + std::to_string(width * 8) + "-bit field must be " + std::to_string(width) + " bytes");
  }
  std::uint64_t v = 0;
  for (const char c : b) {
    v = (v << 8) | static_cast<std::uint8_t>(c);
  }
  return v;
}

std::string big_endian(std::uint64_t value, std::size_t width) {
  std::string out(width, '\0');
  for (std::size_t i = width; i-- > 0;) {
    out[i] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  return out;
}

}  // namespace

std::uint8_t FieldReader::u8() { return static_cast<std::uint8_t>(big_endian_field(bytes(), 1)); }
std::uint16_t FieldReader::u16() { return static_cast<std::uint16_t>(big_endian_field(bytes(), 2)); }
std::uint32_t FieldReader::u32() { return static_cast<std::uint32_t>(big_endian_field(bytes(), 4)); }
std::uint64_t FieldReader::u64() { return big_endian_field(bytes(), 8); }

void FieldReader::expect_end() const {
  if (m_next != m_fields.size()) {
    throw FrameError("unexpected trailing fields");
  }
}

std::string encode_u8(std::uint8_t value) { return big_endian(value, 1); }
std::string encode_u16(std::uint16_t value) { return big_endian(value, 2); }
std::string encode_u32(std::uint32_t value) { return big_endian(value, 4); }
std::string encode_u64(std::uint64_t value) { return big_endian(value, 8); }

}  // namespace orbitnest::keyd
