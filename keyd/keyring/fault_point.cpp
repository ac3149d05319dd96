#include "keyd/keyring/fault_point.h"

#include <signal.h>

#include <cstdlib>
#include <string_view>

#include "systemd/log.h"

namespace orbitnest::keyd {

void fault_point(const char* name) {
  const char* wanted = std::getenv("ORBITNEST_KEYD_FAULT");
  if (wanted != nullptr && std::string_view(wanted) == name) {
    log::warning("keyd.fault_injected", {{"point", name}});
    ::raise(SIGKILL);
  }
}

}  // namespace orbitnest::keyd
