#pragma once
// Counts open connections, in all and per client address, so that one
// address cannot hold every slot (idle sockets cost an attacker nothing).
// An IPv6 client counts by its /64: one host usually has the whole prefix.
// Thread-safe; a Slot gives its place back when destroyed.
#include <boost/asio/ip/address.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>

namespace orbitnest::authd {

class ConnectionLimiter final {
 public:
  enum class Refusal { none, total, per_address };

  class Slot final {
   public:
    Slot() = default;
    ~Slot() { release(); }
    Slot(Slot&& other) noexcept : m_owner(other.m_owner), m_key(other.m_key) { other.m_owner = nullptr; }
    Slot& operator=(Slot&&) = delete;
    // A copy would give the place back twice.
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    explicit operator bool() const { return m_owner != nullptr; }

   private:
    friend class ConnectionLimiter;
    using Key = std::array<std::uint8_t, 16>;
    Slot(ConnectionLimiter* owner, const Key& key) : m_owner(owner), m_key(key) {}
    void release();
    ConnectionLimiter* m_owner = nullptr;
    Key m_key{};
  };

  ConnectionLimiter(int max_total, int max_per_address) : m_max_total(max_total), m_max_per_address(max_per_address) {}
  // New limits (a reload): connections already open stay; new ones count
  // against these.
  void set_limits(int max_total, int max_per_address);

  // A slot for a new connection from `address`, or an empty one and why not.
  Slot acquire(const boost::asio::ip::address& address, Refusal* refusal);
  int open() const;
  // The client network an address counts as, printable, for per-client
  // limits elsewhere (the per-IP request budgets): an IPv4 address (also
  // v4-mapped), or an IPv6 /64 — rotating addresses inside one's own
  // prefix buys nothing.
  static std::string network_name(const boost::asio::ip::address& address);
  // True once at least `min_closes` connections closed and no more than
  // half of the most open at once since the last true are still open: the
  // moment to give freed memory back to the system (steady churn, where
  // as many open as close, never qualifies).
  bool take_close_burst(int min_closes);

 private:
  static Slot::Key key_of(const boost::asio::ip::address& address);
  void release(const Slot::Key& key);

  int m_max_total;
  int m_max_per_address;
  mutable std::mutex m_mutex;
  int m_open = 0;
  std::int64_t m_closed = 0;
  int m_peak = 0;
  std::map<Slot::Key, int> m_per_address;
};

}  // namespace orbitnest::authd
