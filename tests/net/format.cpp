// format_ipv4 / format_ipv6 / format_address, parse_address and parse_unix: AnyEvent's
// documented examples, RFC 5952 compression, the dotted tails, and the unix/ token.
#include <doctest/doctest.h>

#include <anyevent/address.hpp>

#include <stdexcept>
#include <string>
#include <string_view>

namespace {

std::uint8_t nibble(char c) {
  return static_cast<std::uint8_t>(c <= '9' ? c - '0' : c - 'a' + 10);
}

ae::address v6(std::string_view hex) {
  std::array<std::uint8_t, 16> o{};
  REQUIRE(hex.size() == 32);
  for (std::size_t i = 0; i < o.size(); ++i)
    o[i] = static_cast<std::uint8_t>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
  return ae::address::ipv6(o);
}

}  // namespace

TEST_CASE("format/ipv4") {
  CHECK(ae::format_ipv4(ae::address::ipv4({1, 2, 3, 5})) == "1.2.3.5");
  CHECK(ae::format_ipv4(ae::address::ipv4({0, 0, 0, 0})) == "0.0.0.0");
  CHECK(ae::format_ipv4(ae::address::ipv4({255, 255, 255, 255})) == "255.255.255.255");
  CHECK(ae::format_ipv4(ae::address::ipv4({10, 0, 100, 9})) == "10.0.100.9");
  CHECK_THROWS_AS(ae::format_ipv4(v6("00000000000000000000000000000001")), std::invalid_argument);
  CHECK_THROWS_AS(ae::format_ipv4(ae::address::unix_socket()), std::invalid_argument);
}

TEST_CASE("format/ipv6") {
  struct {
    std::string_view octets, text;
  } const cases[] = {
      {"00000000000000000000000000000000", "::"},
      {"00000000000000000000000000000001", "::1"},
      {"00000000000000000000000000000002", "::2"},  // inet_ntop's form (AnyEvent: ::0.0.0.2)
      {"0000000000000000000000000000ffff", "::ffff"},
      // dotted tails: v4-compatible, v4-mapped, v4-translated
      {"00000000000000000000000001020304", "::1.2.3.4"},
      {"00000000000000000000000000020000", "::0.2.0.0"},
      {"00000000000000000000ffff01020304", "::ffff:1.2.3.4"},
      {"00000000000000000000ffff00000000", "::ffff:0.0.0.0"},
      {"0000000000000000ffff000001020304", "::ffff:0:1.2.3.4"},
      // RFC 5952: lower case, no leading zeros, longest run (first on a tie), no "::" for one group
      {"2002534500000000000000000a000001", "2002:5345::a00:1"},
      {"20010db8000000000000000000000001", "2001:db8::1"},
      {"20010DB8000000000000ff0000428329", "2001:db8::ff00:42:8329"},
      {"00010000000200030004000500060007", "1:0:2:3:4:5:6:7"},
      {"00010000000000020000000000000003", "1:0:0:2::3"},
      {"00010000000000020003000000000004", "1::2:3:0:0:4"},
      {"00010002000300040005000600070008", "1:2:3:4:5:6:7:8"},
      {"00010000000000000000000000000000", "1::"},
      {"ffff0000000000000000000000000000", "ffff::"},
      {"00000001000000000000000000000000", "0:1::"},
      {"00000000000000000001000000000000", "::1:0:0:0"},
      {"00000000000000010000000000000000", "0:0:0:1::"},
      {"fe800000000000000000000000010002", "fe80::1:2"},
      {"ffffffffffffffffffffffffffffffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
      {"00010002000300040005000600070000", "1:2:3:4:5:6:7:0"},
  };
  for (const auto& c : cases) {
    std::string lower(c.octets);
    for (auto& ch : lower) ch = static_cast<char>(ch >= 'A' && ch <= 'F' ? ch - 'A' + 'a' : ch);
    CAPTURE(c.text);
    CHECK(ae::format_ipv6(v6(lower)) == c.text);
  }
  // An IPv4 address prints as its v4-mapped form; the unix/ token has none.
  CHECK(ae::format_ipv6(ae::address::ipv4({1, 2, 3, 4})) == "::ffff:1.2.3.4");
  CHECK_THROWS_AS(ae::format_ipv6(ae::address::unix_socket()), std::invalid_argument);
}

TEST_CASE("format/address") {
  CHECK(ae::format_address(ae::address::ipv4({1, 2, 3, 5})) == "1.2.3.5");
  CHECK(ae::format_address(v6("00000000000000000000ffff0a010203")) == "10.1.2.3");
  CHECK(ae::format_address(v6("0000000000000000ffff000001020304")) == "::ffff:0:1.2.3.4");
  CHECK(ae::format_address(v6("00000000000000000000000000000001")) == "::1");
  CHECK(ae::format_address(ae::address::unix_socket()) == "unix/");
  CHECK(ae::format_ip(ae::address::ipv4({127, 0, 0, 1})) == "127.0.0.1");
}

TEST_CASE("format/parse_address") {
  const auto a = ae::parse_address("10.1.2.3");
  REQUIRE(a);
  CHECK(a->family() == AF_INET);
  CHECK(*a == ae::address::ipv4({10, 1, 2, 3}));
  // v4-mapped comes back as IPv4; parse_ipv6 keeps it mapped
  CHECK(ae::parse_address("::ffff:10.1.2.3") == ae::address::ipv4({10, 1, 2, 3}));
  CHECK(ae::parse_address("::ffff:a01:203") == ae::address::ipv4({10, 1, 2, 3}));
  CHECK(ae::parse_ipv6("::ffff:10.1.2.3")->family() == AF_INET6);
  CHECK(ae::parse_address("10.1") == ae::address::ipv4({10, 0, 0, 1}));
  CHECK(ae::parse_address("::1") == v6("00000000000000000000000000000001"));
  // v4-translated and v4-compatible stay IPv6
  CHECK(ae::parse_address("::ffff:0:1.2.3.4")->family() == AF_INET6);
  CHECK(ae::parse_address("::1.2.3.4")->family() == AF_INET6);
  CHECK(ae::parse_address("unix/") == ae::address::unix_socket());
  CHECK(ae::parse_ip("unix/") == ae::address::unix_socket());
  CHECK(ae::parse_ip("127.0.0.1") == ae::address::ipv4({127, 0, 0, 1}));
  for (std::string_view bad : {"", "unix", "unix/ ", "UNIX/", "localhost", "1.2.3.4 junk", "[::1]"}) {
    CAPTURE(bad);
    CHECK_FALSE(ae::parse_address(bad).has_value());
  }
}

TEST_CASE("format/parse_unix") {
  CHECK(ae::parse_unix("unix/") == ae::address::unix_socket());
  CHECK_FALSE(ae::parse_unix("unix").has_value());
  CHECK_FALSE(ae::parse_unix("unix/:/tmp/x").has_value());
  CHECK_FALSE(ae::parse_unix("/tmp/x").has_value());
  CHECK_FALSE(ae::parse_unix("127.0.0.1").has_value());
  CHECK(ae::address::unix_socket().bytes().empty());
  CHECK(ae::address_family(ae::address::unix_socket()) == AF_UNIX);
}
