#pragma once
// What carries one request to keyd and brings its answer back: a single
// connection (keydctl) or a pool of them (authd). KeydClient speaks typed
// requests over either.
#include <string>
#include <vector>

#include "keyd/protocol/frame.h"

namespace orbitnest::keyd {

class KeydTransport {
 public:
  virtual ~KeydTransport() = default;
  // Returns the response frame when its status is ok or one of `accepted`;
  // throws KeydError (another status) or KeydUnavailable (the socket).
  virtual Frame call(Op op, std::vector<std::string> fields, std::vector<Status> accepted = {}) = 0;
};

}  // namespace orbitnest::keyd
