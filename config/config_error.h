#pragma once
// A config problem, reported as one line that names the file, the line and
// the key path: "authd.yaml:14: tls.cert_file: no such file".
#include <stdexcept>
#include <string>

namespace orbitnest::config {

// sysexits.h EX_CONFIG: what a daemon exits with on a bad config.
inline constexpr int kExitConfig = 78;

class ConfigError final : public std::runtime_error {
 public:
  ConfigError(const std::string& file, int line, const std::string& key_path, const std::string& problem);
  const std::string& file() const { return m_file; }
  int line() const { return m_line; }
  const std::string& key_path() const { return m_key_path; }

 private:
  std::string m_file;
  int m_line;
  std::string m_key_path;
};

}  // namespace orbitnest::config
