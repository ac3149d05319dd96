#pragma once
// Readiness, stopping and watchdog notifications to the service manager
// (sd_notify). All are no-ops when NOTIFY_SOCKET is not set.
#include <chrono>
#include <optional>
#include <string_view>

namespace orbitnest::sd {

void notify_ready(std::string_view status);
void notify_stopping();
void notify_status(std::string_view status);
void notify_watchdog();

// Half the WatchdogSec interval when the watchdog is enabled for this
// process: the period at which the event loop must call notify_watchdog().
std::optional<std::chrono::microseconds> watchdog_period();

}  // namespace orbitnest::sd
