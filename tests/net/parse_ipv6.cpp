// parse_ipv6: RFC 4291 text forms, the IPv4 tail, IPv4 forms as v4-mapped, and rejections.
#include <doctest/doctest.h>

#include <anyevent/address.hpp>

#include <string>
#include <string_view>

namespace {

std::string hex(std::span<const std::uint8_t> b) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string s;
  for (std::uint8_t x : b) {
    s += digits[x >> 4];
    s += digits[x & 15];
  }
  return s;
}

struct vector_case {
  std::string_view text;
  std::string_view octets;  // hex
};

}  // namespace

TEST_CASE("parse_ipv6/anyevent_examples") {
  CHECK(hex(ae::parse_ipv6("2002:5345::10.0.0.1")->bytes()) == "2002534500000000000000000a000001");
  CHECK(hex(ae::parse_ipv6("192.89.98.1")->bytes()) == "00000000000000000000ffffc0596201");
}

TEST_CASE("parse_ipv6/accepted_forms") {
  const vector_case cases[] = {
      {"::", "00000000000000000000000000000000"},
      {"::1", "00000000000000000000000000000001"},
      {"1::", "00010000000000000000000000000000"},
      {"::0", "00000000000000000000000000000000"},
      {"0:0:0:0:0:0:0:0", "00000000000000000000000000000000"},
      {"0000:0000::", "00000000000000000000000000000000"},
      {"1:2:3:4:5:6:7:8", "00010002000300040005000600070008"},
      {"1:2:3:4:5:6:7::", "00010002000300040005000600070000"},
      {"::2:3:4:5:6:7:8", "00000002000300040005000600070008"},
      {"1::8", "00010000000000000000000000000008"},
      {"1:2::7:8", "00010002000000000000000000070008"},
      {"2001:db8::1", "20010db8000000000000000000000001"},
      {"2001:DB8::1", "20010db8000000000000000000000001"},
      {"2001:0db8:0000:0000:0000:ff00:0042:8329", "20010db8000000000000ff0000428329"},
      {"fe80::1:2", "fe800000000000000000000000010002"},
      {"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffffffffffffffffffffffffffffffff"},
      {"affe::1", "affe0000000000000000000000000001"},
      {"::1:80", "00000000000000000000000000010080"},
      // IPv4 tails
      {"::ffff:1.2.3.4", "00000000000000000000ffff01020304"},
      {"::1.2.3.4", "00000000000000000000000001020304"},
      {"::ffff:0:1.2.3.4", "0000000000000000ffff000001020304"},
      {"1:2:3:4:5:6:1.2.3.4", "00010002000300040005000601020304"},
      {"2002:58c6:438b::10.0.0.17", "200258c6438b000000000000" "0a000011"},
      {"64:ff9b::192.0.2.33", "0064ff9b0000000000000000c0000221"},
      // the tail takes every parse_ipv4 form with a dot, as AnyEvent documents
      {"::ffff:10.1", "00000000000000000000ffff0a000001"},
      {"::ffff:0x7f.1", "00000000000000000000ffff7f000001"},
      {"::ffff:1.2.3", "00000000000000000000ffff01020003"},
      // no colon: an IPv4 form, v4-mapped
      {"10.1", "00000000000000000000ffff0a000001"},
      {"0x7f000001", "00000000000000000000ffff7f000001"},
      {"0", "00000000000000000000ffff00000000"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    const auto a = ae::parse_ipv6(c.text);
    REQUIRE(a.has_value());
    CHECK(a->family() == AF_INET6);
    CHECK(hex(a->bytes()) == c.octets);
  }
}

TEST_CASE("parse_ipv6/rejected") {
  using namespace std::string_view_literals;
  const std::string_view cases[] = {
      "", ":", ":::", "::::", "1:::2", "1::2::3", "::1::", ":1", "1:", ":1:2:3:4:5:6:7:8",
      "1:2:3:4:5:6:7:8:", "1:2:3:4:5:6:7", "1:2:3:4:5:6:7:8:9",
      // "::" must stand for at least one group
      "1::2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8",
      // groups: 1-4 hex digits
      "12345::", "::00001", "g::", "::g", "1:2:3:4:5:6:7:-8", "::+1", "0x1::",
      // IPv4 tails: last, in range, at most 6 groups before
      "::1.2.3.4:5", "1.2.3.4::", "::1.2.3.256", "::1.2.3.4.5", "1:2:3:4:5:6:7:1.2.3.4",
      "::ffff:1.2.3.", "::ffff:.1", "::ffff:08.1", "1.2::3",
      // scope ids, prefixes, brackets, spaces, junk
      "fe80::1%eth0", "fe80::1%1", "::1/128", "0::00:00:00/2", "[::1]", " ::1", "::1 ", "::1\n",
      "::1 junk", "1.2.3.4 junk", "unix/", "localhost",
      // embedded NULs
      "::1\0"sv, "\0::1"sv, ":\0:1"sv, "::ffff:1.2.3.4\0"sv,
  };
  for (const auto& c : cases) {
    CAPTURE(c);
    CHECK_FALSE(ae::parse_ipv6(c).has_value());
  }
}
