#include "tests/support/softhsm_token.h"

#include <filesystem>
#include <stdexcept>

#include "tests/support/child_process.h"

namespace orbitnest::test {

SoftHsmToken::SoftHsmToken(const TempDir& dir, std::string label) : m_label(std::move(label)) {
  const std::string base = dir.file("softhsm");
  std::filesystem::create_directories(base + "/tokens");
  m_conf = base + "/softhsm2.conf";
  m_token_dir = base + "/tokens";
  write_file(m_conf, "directories.tokendir = " + base + "/tokens\nobjectstore.backend = file\nlog.level = ERROR\n");
  m_pin = random_hex(12);
  const std::string so_pin = random_hex(12);
  record_secret(m_pin);
  record_secret(so_pin);
  m_pin_file = base + "/pin";
  write_file(m_pin_file, m_pin + "\n", 0600);
  const auto [code, output] = run_command(
      {"/usr/bin/softhsm2-util", "--init-token", "--free", "--label", m_label, "--pin", m_pin, "--so-pin", so_pin},
      {{"SOFTHSM2_CONF", m_conf}});
  if (code != 0) {
    throw std::runtime_error("softhsm2-util --init-token failed: " + output);
  }
}

SoftHsmToken::SoftHsmToken(const TempDir& dir, const SoftHsmToken& shared)
    : m_label(shared.m_label), m_pin_file(shared.m_pin_file), m_pin(shared.m_pin), m_token_dir(shared.m_token_dir) {
  const std::string base = dir.file("softhsm");
  std::filesystem::create_directories(base);
  m_conf = base + "/softhsm2.conf";
  write_file(m_conf, "directories.tokendir = " + m_token_dir + "\nobjectstore.backend = file\nlog.level = ERROR\n");
}

}  // namespace orbitnest::test
