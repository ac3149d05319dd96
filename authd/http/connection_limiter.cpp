#include "authd/http/connection_limiter.h"

namespace orbitnest::authd {

void ConnectionLimiter::Slot::release() {
  if (m_owner != nullptr) {
    m_owner->release(m_key);
    m_owner = nullptr;
  }
}

ConnectionLimiter::Slot::Key ConnectionLimiter::key_of(const boost::asio::ip::address& address) {
  Slot::Key key{};
  if (address.is_v6() && !address.to_v6().is_v4_mapped()) {
    const auto bytes = address.to_v6().to_bytes();
    std::copy(bytes.begin(), bytes.begin() + 8, key.begin());  // the /64
    key[15] = 6;
    return key;
  }
  const auto bytes = address.is_v4() ? address.to_v4().to_bytes()
                                     : boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6())
                                           .to_bytes();
  std::copy(bytes.begin(), bytes.end(), key.begin());
  key[15] = 4;
  return key;
}

std::string ConnectionLimiter::network_name(const boost::asio::ip::address& address) {
  static constexpr char kHex[] = "0123456789abcdef";
  const Slot::Key key = key_of(address);
  const std::size_t bytes = key[15] == 6 ? 8 : 4;
  std::string out = key[15] == 6 ? "v6/64:" : "v4:";
  for (std::size_t i = 0; i < bytes; ++i) {
    out += kHex[key[i] >> 4];
    out += kHex[key[i] & 0xf];
  }
  return out;
}

void ConnectionLimiter::set_limits(int max_total, int max_per_address) {
  const std::lock_guard lock(m_mutex);
  m_max_total = max_total;
  m_max_per_address = max_per_address;
}

ConnectionLimiter::Slot ConnectionLimiter::acquire(const boost::asio::ip::address& address, Refusal* refusal) {
  const Slot::Key key = key_of(address);
  const std::lock_guard lock(m_mutex);
  if (m_open >= m_max_total) {
    *refusal = Refusal::total;
    return Slot();
  }
  int& mine = m_per_address[key];
  if (mine >= m_max_per_address) {
    *refusal = Refusal::per_address;
    return Slot();
  }
  ++mine;
  ++m_open;
  m_peak = std::max(m_peak, m_open);
  *refusal = Refusal::none;
  return Slot(this, key);
}

void ConnectionLimiter::release(const Slot::Key& key) {
  const std::lock_guard lock(m_mutex);
  const auto it = m_per_address.find(key);
  if (it != m_per_address.end() && --it->second <= 0) {
    m_per_address.erase(it);  // the map holds only addresses with connections
  }
  --m_open;
  ++m_closed;
}

int ConnectionLimiter::open() const {
  const std::lock_guard lock(m_mutex);
  return m_open;
}

bool ConnectionLimiter::take_close_burst(int min_closes) {
  const std::lock_guard lock(m_mutex);
  if (m_closed < min_closes || m_open > m_peak / 2) {
    return false;
  }
  m_closed = 0;
  m_peak = m_open;
  return true;
}

}  // namespace orbitnest::authd
