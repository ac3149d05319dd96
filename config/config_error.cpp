#include "config/config_error.h"

namespace orbitnest::config {
namespace {

// Appends piece by piece: `":" + std::to_string(line)` (operator+ on a
// literal and a temporary, which inserts at the front) trips GCC 12's
// -Wrestrict false positive (GCC bug 105651) at -O3, and -Werror turns it
// into a failed Release build.
std::string render(const std::string& file, int line, const std::string& key_path, const std::string& problem) {
  std::string out = file;
  if (line > 0) {
    out += ':';
    out += std::to_string(line);
  }
  out += ": ";
  if (!key_path.empty()) {
    out += key_path;
    out += ": ";
  }
  out += problem;
  return out;
}

}  // namespace

ConfigError::ConfigError(const std::string& file, int line, const std::string& key_path, const std::string& problem)
    : std::runtime_error(render(file, line, key_path, problem)), m_file(file), m_line(line), m_key_path(key_path) {}

}  // namespace orbitnest::config
