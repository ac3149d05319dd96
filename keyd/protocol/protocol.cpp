#include "keyd/protocol/protocol.h"

namespace orbitnest::keyd {

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
