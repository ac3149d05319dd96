#include "tests/support/temp_dir.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>

namespace orbitnest::test {

TempDir::TempDir() {
  std::string tmpl = "/tmp/orbitnest-test-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) {
    throw std::runtime_error("mkdtemp failed");
  }
  ::chmod(tmpl.c_str(), 0755);
  m_path = tmpl;
}

TempDir::~TempDir() {
  if (std::getenv("ORBITNEST_TEST_KEEP") == nullptr) {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
  }
}

void write_file(const std::string& path, const std::string& content, unsigned mode) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) {
    throw std::runtime_error("cannot write " + path);
  }
  ::chmod(path.c_str(), static_cast<mode_t>(mode));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string random_hex(std::size_t bytes) {
  static constexpr std::array<char, 16> kHex = {'0', '1', '2', '3', '4', '5', '6', '7',
                                                '8', '9', 'a', 'b', 'c', 'd', 'e', 'f'};
  std::random_device rd;
  std::string out;
  for (std::size_t i = 0; i < bytes; ++i) {
    const unsigned v = rd() & 0xffu;
    out += kHex[v >> 4];
    out += kHex[v & 0xf];
  }
  return out;
}

std::string log_dir() {
  const char* dir = std::getenv("ORBITNEST_TEST_LOGDIR");
  std::string path = dir != nullptr ? dir : "/tmp/orbitnest-test-logs";
  std::filesystem::create_directories(path);
  return path;
}

void record_secret(const std::string& secret) {
  static std::mutex mutex;
  const std::lock_guard lock(mutex);
  std::ofstream out(log_dir() + "/secrets.list", std::ios::app);
  out << secret << "\n";
}

std::string current_test_name() {
  const testing::TestInfo* info = testing::UnitTest::GetInstance()->current_test_info();
  if (info == nullptr) {
    return "no-test";
  }
  std::string name = std::string(info->test_suite_name()) + "." + info->name();
  for (char& c : name) {
    if (c == '/') {
      c = '_';
    }
  }
  return name;
}

}  // namespace orbitnest::test
