// Fuzzes the config loaders: any input must either load or raise a
// ConfigError, never crash or throw anything else.
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/authd_config.h"
#include "config/config_error.h"
#include "config/keyd_config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    (void)orbitnest::config::parse_authd_config(text, "fuzz.yaml");
  } catch (const orbitnest::config::ConfigError&) {
  }
  try {
    (void)orbitnest::config::parse_keyd_config(text, "fuzz.yaml");
  } catch (const orbitnest::config::ConfigError&) {
  }
  return 0;
}
