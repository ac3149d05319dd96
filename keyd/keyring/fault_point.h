#pragma once
// Test hook for crash consistency: ORBITNEST_KEYD_FAULT=<point> kills keyd
// with SIGKILL when it reaches fault_point("<point>").
namespace orbitnest::keyd {

void fault_point(const char* name);

}  // namespace orbitnest::keyd
