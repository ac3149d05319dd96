#pragma once
// A SoftHSM2 token of the test's own: its own conf file and token folder
// inside the test's TempDir, a random user PIN in a 0600 file.
#include <string>

#include "tests/support/temp_dir.h"

namespace orbitnest::test {

inline constexpr const char* kSoftHsmModule = "/usr/lib/softhsm/libsofthsm2.so";

class SoftHsmToken final {
 public:
  SoftHsmToken(const TempDir& dir, std::string label = "orbitnest-test");
  // Another node's view of `shared`: a conf file of its own in `dir`
  // naming the same token folder (the stand-in for an HSM cluster).
  SoftHsmToken(const TempDir& dir, const SoftHsmToken& shared);
  const std::string& token_dir() const { return m_token_dir; }
  const std::string& label() const { return m_label; }
  const std::string& conf_path() const { return m_conf; }
  const std::string& pin_file() const { return m_pin_file; }
  const std::string& pin() const { return m_pin; }

 private:
  std::string m_label;
  std::string m_conf;
  std::string m_pin_file;
  std::string m_pin;
  std::string m_token_dir;
};

}  // namespace orbitnest::test
