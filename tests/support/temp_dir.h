#pragma once
// A fresh folder per test under /tmp, removed afterwards
// (kept when ORBITNEST_TEST_KEEP is set, for debugging).
#include <string>

namespace orbitnest::test {

class TempDir final {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return m_path; }
  std::string file(const std::string& name) const { return m_path + "/" + name; }

 private:
  std::string m_path;
};

// Writes `content` to `path` with `mode`.
void write_file(const std::string& path, const std::string& content, unsigned mode = 0644);
std::string read_file(const std::string& path);
// Random lowercase hex, for names and secrets.
std::string random_hex(std::size_t bytes);
// Where daemon logs of the test run go ($ORBITNEST_TEST_LOGDIR).
std::string log_dir();
// Records a secret that must never appear in any log of the run; the test
// command greps every log for each recorded secret.
void record_secret(const std::string& secret);
// "Suite.Name" of the running GoogleTest test, safe for file names.
std::string current_test_name();

}  // namespace orbitnest::test
