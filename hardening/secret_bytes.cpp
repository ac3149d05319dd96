#include "hardening/secret_bytes.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <stdexcept>

#include "systemd/unique_fd.h"

namespace orbitnest::hardening {

SecretBytes::SecretBytes(std::size_t size) : m_bytes(size) {
  if (size > 0) {
    // Best effort: RLIMIT_MEMLOCK may forbid it; the wipe still happens.
    (void)::mlock(m_bytes.data(), m_bytes.size());
  }
}

SecretBytes::~SecretBytes() { wipe(); }

SecretBytes::SecretBytes(SecretBytes&& other) noexcept : m_bytes(std::move(other.m_bytes)) { other.m_bytes.clear(); }

SecretBytes& SecretBytes::operator=(SecretBytes&& other) noexcept {
  if (this != &other) {
    wipe();
    m_bytes = std::move(other.m_bytes);
    other.m_bytes.clear();
  }
  return *this;
}

void SecretBytes::wipe() noexcept {
  if (!m_bytes.empty()) {
    ::explicit_bzero(m_bytes.data(), m_bytes.size());
    (void)::munlock(m_bytes.data(), m_bytes.size());
  }
}

void SecretBytes::trim_trailing_newlines() {
  std::size_t n = m_bytes.size();
  while (n > 0 && (m_bytes[n - 1] == '\n' || m_bytes[n - 1] == '\r')) {
    m_bytes[n - 1] = 0;
    --n;
  }
  m_bytes.resize(n);  // shrinking keeps the buffer, so nothing is copied out
}

SecretBytes read_secret_file(const std::string& path, std::size_t max_bytes) {
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid()) {
    throw std::runtime_error("cannot open secret file " + path);
  }
  SecretBytes out(max_bytes + 1);
  std::size_t got = 0;
  while (got < out.size()) {
    const ssize_t n = ::read(fd.get(), out.data() + got, out.size() - got);
    if (n < 0) {
      throw std::runtime_error("cannot read secret file " + path);
    }
    if (n == 0) {
      break;
    }
    got += static_cast<std::size_t>(n);
  }
  if (got > max_bytes) {
    throw std::runtime_error("secret file " + path + " is larger than " + std::to_string(max_bytes) + " bytes");
  }
  SecretBytes exact(got);
  ::memcpy(exact.data(), out.data(), got);
  exact.trim_trailing_newlines();
  if (exact.empty()) {
    throw std::runtime_error("secret file " + path + " is empty");
  }
  return exact;
}

}  // namespace orbitnest::hardening
