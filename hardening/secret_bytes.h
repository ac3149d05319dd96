#pragma once
// Bytes of a secret (an HSM PIN, a password in transit): locked in memory
// where the limit allows, wiped on destruction, never printable. There is
// deliberately no conversion to std::string and no stream operator.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace orbitnest::hardening {

class SecretBytes final {
 public:
  SecretBytes() = default;
  explicit SecretBytes(std::size_t size);
  ~SecretBytes();
  SecretBytes(const SecretBytes&) = delete;
  SecretBytes& operator=(const SecretBytes&) = delete;
  SecretBytes(SecretBytes&& other) noexcept;
  SecretBytes& operator=(SecretBytes&& other) noexcept;

  std::uint8_t* data() { return m_bytes.data(); }
  const std::uint8_t* data() const { return m_bytes.data(); }
  std::size_t size() const { return m_bytes.size(); }
  bool empty() const { return m_bytes.empty(); }
  // Drops trailing CR/LF (files written by `echo`).
  void trim_trailing_newlines();

 private:
  void wipe() noexcept;
  std::vector<std::uint8_t> m_bytes;
};

// Reads a whole secret file (at most max_bytes). Throws std::runtime_error
// naming the path, never the content.
SecretBytes read_secret_file(const std::string& path, std::size_t max_bytes);

}  // namespace orbitnest::hardening
