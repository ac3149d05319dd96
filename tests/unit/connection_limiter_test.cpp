// What one client is, for connection caps and per-IP request budgets: an
// IPv4 address (however it is written) or an IPv6 /64.
#include <gtest/gtest.h>

#include <boost/asio/ip/address.hpp>

#include "authd/http/connection_limiter.h"

namespace orbitnest::authd {
namespace {

std::string network(const char* text) { return ConnectionLimiter::network_name(boost::asio::ip::make_address(text)); }

TEST(ConnectionLimiter, OneClientIsAnIpv4AddressOrAnIpv6Slash64) {
  EXPECT_EQ(network("203.0.113.5"), "v4:cb007105");
  EXPECT_EQ(network("::ffff:203.0.113.5"), network("203.0.113.5")) << "v4-mapped is the same client";
  EXPECT_NE(network("203.0.113.6"), network("203.0.113.5"));
  EXPECT_EQ(network("2001:db8:1:2::1"), network("2001:db8:1:2:ffff:ffff:ffff:ffff")) << "one /64";
  EXPECT_EQ(network("2001:db8:1:2::1"), "v6/64:20010db800010002");
  EXPECT_NE(network("2001:db8:1:3::1"), network("2001:db8:1:2::1"));
}

TEST(ConnectionLimiter, CapsPerClientAndInAll) {
  ConnectionLimiter limiter(3, 2);
  ConnectionLimiter::Refusal why = ConnectionLimiter::Refusal::none;
  ConnectionLimiter::Slot a = limiter.acquire(boost::asio::ip::make_address("2001:db8::1"), &why);
  ConnectionLimiter::Slot b = limiter.acquire(boost::asio::ip::make_address("2001:db8::2"), &why);
  EXPECT_TRUE(a && b);
  EXPECT_FALSE(limiter.acquire(boost::asio::ip::make_address("2001:db8::3"), &why)) << "same /64: its cap of 2";
  EXPECT_EQ(why, ConnectionLimiter::Refusal::per_address);
  ConnectionLimiter::Slot c = limiter.acquire(boost::asio::ip::make_address("192.0.2.1"), &why);
  EXPECT_TRUE(c);
  EXPECT_FALSE(limiter.acquire(boost::asio::ip::make_address("192.0.2.2"), &why));
  EXPECT_EQ(why, ConnectionLimiter::Refusal::total);
}

}  // namespace
}  // namespace orbitnest::authd
