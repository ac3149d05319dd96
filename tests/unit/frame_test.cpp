// The keyd frame codec: round trips, and every kind of malformed input.
#include <gtest/gtest.h>

#include "keyd/protocol/frame.h"

namespace orbitnest::keyd {
namespace {

std::vector<std::uint8_t> sample() {
  Frame f;
  f.op = static_cast<std::uint16_t>(Op::status);
  f.request_id = 0x01020304;
  f.fields = {"abc", "", std::string("\0x", 2)};
  return encode_frame(f);
}

TEST(Frame, RoundTrip) {
  const std::vector<std::uint8_t> bytes = sample();
  ASSERT_EQ(bytes.size(), kHeaderBytes + 4 + 3 + 4 + 0 + 4 + 2);
  const Frame f = decode_frame(bytes);
  EXPECT_EQ(f.version, kProtocolVersion);
  EXPECT_EQ(f.kind, FrameKind::request);
  EXPECT_EQ(f.op, static_cast<std::uint16_t>(Op::status));
  EXPECT_EQ(f.request_id, 0x01020304u);
  EXPECT_EQ(f.fields, (std::vector<std::string>{"abc", "", std::string("\0x", 2)}));
}

TEST(Frame, EveryTruncationIsRejected) {
  const std::vector<std::uint8_t> bytes = sample();
  // Cutting inside the header or inside a field must fail; cutting exactly
  // at a field boundary is a shorter valid frame, so skip those lengths.
  const std::vector<std::size_t> boundaries = {kHeaderBytes, kHeaderBytes + 7, kHeaderBytes + 11};
  for (std::size_t len = 0; len < bytes.size(); ++len) {
    if (std::find(boundaries.begin(), boundaries.end(), len) != boundaries.end()) {
      continue;
    }
    EXPECT_THROW(decode_frame(std::span<const std::uint8_t>(bytes.data(), len)), FrameError) << "length " << len;
  }
}

TEST(Frame, OversizeRejected) {
  std::vector<std::uint8_t> bytes = sample();
  bytes.resize(kMaxFrameBytes + 1, 0);
  EXPECT_THROW(decode_frame(bytes), FrameError);
  Frame f;
  f.fields = {std::string(kMaxFrameBytes, 'x')};
  EXPECT_THROW(encode_frame(f), FrameError);
}

TEST(Frame, FieldLengthPastEndRejected) {
  std::vector<std::uint8_t> bytes = sample();
  bytes[kHeaderBytes + 3] = 0xff;  // first field claims 255 bytes
  EXPECT_THROW(decode_frame(bytes), FrameError);
  bytes[kHeaderBytes] = 0xff;  // ... or 4 GiB
  EXPECT_THROW(decode_frame(bytes), FrameError);
}

TEST(Frame, ReservedBytesAndKindChecked) {
  std::vector<std::uint8_t> bytes = sample();
  bytes[11] = 1;
  EXPECT_THROW(decode_frame(bytes), FrameError);
  bytes = sample();
  bytes[1] = 7;
  EXPECT_THROW(decode_frame(bytes), FrameError);
}

TEST(Frame, TooManyFieldsRejected) {
  std::vector<std::uint8_t> bytes = encode_frame(Frame{});
  for (std::size_t i = 0; i <= kMaxFields; ++i) {
    bytes.insert(bytes.end(), {0, 0, 0, 0});
  }
  EXPECT_THROW(decode_frame(bytes), FrameError);
}

TEST(FieldReader, ConsumesExactly) {
  Frame f;
  f.fields = {encode_u16(7), "tail"};
  FieldReader r(f);
  EXPECT_EQ(r.u16(), 7);
  EXPECT_THROW(r.expect_end(), FrameError);  // "tail" left over
  EXPECT_EQ(r.bytes(), "tail");
  EXPECT_NO_THROW(r.expect_end());
  EXPECT_THROW(r.bytes(), FrameError);
  Frame g;
  g.fields = {"abc"};
  FieldReader bad(g);
  EXPECT_THROW(bad.u16(), FrameError);
}

}  // namespace
}  // namespace orbitnest::keyd
