#include "config/config_error.h"

namespace orbitnest::config {
namespace {

std::string render(const std::string& file, int line, const std::string& key_path, const std::string& problem) {
  std::string out = file;
  if (line > 0) {
    out += ":" + std::to_string(line);
  }
  out += ": ";
  if (!key_path.empty()) {
    out += key_path + ": ";
  }
  return out + problem;
}

}  // namespace

ConfigError::ConfigError(const std::string& file, int line, const std::string& key_path, const std::string& problem)
    : std::runtime_error(render(file, line, key_path, problem)), m_file(file), m_line(line), m_key_path(key_path) {}

}  // namespace orbitnest::config
