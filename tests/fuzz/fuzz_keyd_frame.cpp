// Fuzzes what keyd does with a frame from a peer: decode, dispatch, encode
// the answer. Any crash, sanitizer report or leak is a finding; every
// answer must itself decode as a response.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "keyd/protocol/frame.h"
#include "keyd/server/request_handler.h"
#include "systemd/log.h"

using namespace orbitnest::keyd;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool quiet = [] {
    orbitnest::log::set_level(orbitnest::log::Level::error);
    return true;
  }();
  (void)quiet;
  static KeydState state;
  static const RequestHandler handler(state);
  const std::span<const std::uint8_t> bytes(data, size);
  try {
    (void)decode_frame(bytes);
  } catch (const FrameError&) {
  }
  // Two connection states: fresh, and after a hello.
  for (const bool hello_done : {false, true}) {
    ConnectionState conn{PeerRights{true, true}, hello_done, {}, "fuzz"};
    const HandlerResult r = handler.handle(bytes, conn);
    const Frame answer = decode_frame(r.response);  // must not throw
    if (answer.kind != FrameKind::response) {
      std::abort();
    }
  }
  return 0;
}
