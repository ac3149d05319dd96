#pragma once
// Encoding and strict decoding of keyd frames.
//
//   offset 0  u8   protocol version
//   offset 1  u8   kind (0 request, 1 response)
//   offset 2  u16  op          (big-endian)
//   offset 4  u32  request id  (big-endian; echoed in the response)
//   offset 8  u16  status      (0 in requests)
//   offset 10 u16  reserved, must be 0
//   offset 12 fields: each u32 big-endian length, then that many bytes
//
// decode_frame() rejects anything short, oversized, with a nonzero reserved
// word, an unknown kind, a field running past the end or too many fields.
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "keyd/protocol/protocol.h"

namespace orbitnest::keyd {

class FrameError final : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Frame {
  std::uint8_t version = kProtocolVersion;
  FrameKind kind = FrameKind::request;
  std::uint16_t op = 0;
  std::uint32_t request_id = 0;
  Status status = Status::ok;
  std::vector<std::string> fields;
};

std::vector<std::uint8_t> encode_frame(const Frame& frame);
// Throws FrameError with a reason for malformed input.
Frame decode_frame(std::span<const std::uint8_t> bytes);

// Typed access to a frame's fields: each accessor consumes the next field;
// expect_end() fails if any are left (no trailing data is ever ignored).
class FieldReader final {
 public:
  explicit FieldReader(const Frame& frame) : m_fields(frame.fields) {}
  explicit FieldReader(const std::vector<std::string>& fields) : m_fields(fields) {}
  std::string_view bytes();
  std::uint8_t u8();
  std::uint16_t u16();
  std::uint32_t u32();
  std::uint64_t u64();
  void expect_end() const;

 private:
  const std::vector<std::string>& m_fields;
  std::size_t m_next = 0;
};

std::string encode_u8(std::uint8_t value);
std::string encode_u16(std::uint16_t value);
std::string encode_u32(std::uint32_t value);
std::string encode_u64(std::uint64_t value);

}  // namespace orbitnest::keyd
