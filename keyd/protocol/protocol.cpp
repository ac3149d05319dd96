#include "keyd/protocol/protocol.h"

#include <array>

namespace orbitnest::keyd {
namespace {

constexpr std::array<OpInfo, 2> kOps = {{
    {Op::hello, "hello", true, true},
    {Op::status, "status", true, true},
}};

}  // namespace

std::optional<OpInfo> find_op(std::uint16_t raw) {
  for (const OpInfo& info : kOps) {
    if (static_cast<std::uint16_t>(info.op) == raw) {
      return info;
    }
  }
  return std::nullopt;
}

std::string_view status_name(Status s) {
  switch (s) {
    case Status::ok: return "ok";
    case Status::bad_frame: return "bad_frame";
    case Status::unknown_op: return "unknown_op";
    case Status::unsupported_version: return "unsupported_version";
    case Status::forbidden: return "forbidden";
    case Status::not_ready: return "not_ready";
    case Status::internal: return "internal";
    case Status::hsm_error: return "hsm_error";
    case Status::bad_request: return "bad_request";
    case Status::hello_required: return "hello_required";
  }
  return "unknown_status";
}

}  // namespace orbitnest::keyd
