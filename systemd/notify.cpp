#include "systemd/notify.h"

#include <systemd/sd-daemon.h>

#include <cstdint>
#include <string>

namespace orbitnest::sd {

void notify_ready(std::string_view status) {
  const std::string msg = "READY=1\nSTATUS=" + std::string(status);
  ::sd_notify(0, msg.c_str());
}

void notify_stopping() { ::sd_notify(0, "STOPPING=1"); }

void notify_status(std::string_view status) {
  const std::string msg = "STATUS=" + std::string(status);
  ::sd_notify(0, msg.c_str());
}

void notify_watchdog() { ::sd_notify(0, "WATCHDOG=1"); }

std::optional<std::chrono::microseconds> watchdog_period() {
  std::uint64_t usec = 0;
  if (::sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) {
    return std::nullopt;
  }
  return std::chrono::microseconds(usec / 2);
}

}  // namespace orbitnest::sd
