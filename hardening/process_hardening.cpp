#include "hardening/process_hardening.h"

#include <sys/prctl.h>
#include <sys/resource.h>

#include <stdexcept>

namespace orbitnest::hardening {

void harden_process() {
  const struct rlimit no_core {0, 0};
  if (::setrlimit(RLIMIT_CORE, &no_core) != 0) {
    throw std::runtime_error("setrlimit(RLIMIT_CORE) failed");
  }
  // Not dumpable: no core dumps, and no ptrace/proc access by same-uid peers.
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
    throw std::runtime_error("prctl(PR_SET_DUMPABLE) failed");
  }
}

}  // namespace orbitnest::hardening
