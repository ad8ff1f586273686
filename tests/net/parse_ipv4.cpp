// parse_ipv4: every inet_aton form AnyEvent::Socket documents, range checks per part, and
// the strictness that inet_aton lacks.
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

TEST_CASE("parse_ipv4/accepted_forms") {
  const vector_case cases[] = {
      // AnyEvent::Socket's documented examples
      {"10.0.0.1", "0a000001"},
      {"127.0.0.1", "7f000001"},
      {"10.1", "0a000001"},
      {"10.0x020304", "0a020304"},
      {"0x12345678", "12345678"},
      {"0377.0377.0377.0377", "ffffffff"},
      {"10.1.2.3", "0a010203"},
      {"198.182.196.56", "c6b6c438"},
      {"127.1", "7f000001"},
      {"10.0.1", "0a000001"},
      // one part: the whole 32 bits
      {"0", "00000000"},
      {"4294967295", "ffffffff"},
      {"0xffffffff", "ffffffff"},
      {"0XFFffFFff", "ffffffff"},
      {"017700000001", "7f000001"},
      {"2130706433", "7f000001"},
      // two and three parts: the last fills 24 / 16 bits
      {"1.16777215", "01ffffff"},
      {"1.0xffffff", "01ffffff"},
      {"1.2.65535", "0102ffff"},
      {"1.2.256", "01020100"},
      {"1.2.0177777", "0102ffff"},
      // each part in its own base
      {"0x7f.0.0.01", "7f000001"},
      {"0.0.0.0", "00000000"},
      {"255.255.255.255", "ffffffff"},
      {"00.00.00.00", "00000000"},
      {"010.010.010.010", "08080808"},
      {"0xa.0xB.0xc.0XD", "0a0b0c0d"},
      // leading zeros never overflow
      {"0x0000000000000000000000000001", "00000001"},
      {"000000000000000000000000000012", "0000000a"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.text);
    const auto a = ae::parse_ipv4(c.text);
    REQUIRE(a.has_value());
    CHECK(a->family() == AF_INET);
    CHECK(hex(a->bytes()) == c.octets);
  }
}

TEST_CASE("parse_ipv4/rejected") {
  using namespace std::string_view_literals;
  const std::string_view cases[] = {
      "", ".", "..", "1.", ".1", "1..2", "1.2.3.4.", "1.2.3.4.5", "1.2.3.4.5.6",
      // range of each part
      "256.0.0.1", "1.256.0.1", "1.2.256.1", "1.2.3.256", "1.16777216", "1.2.65536",
      "4294967296", "0x100000000", "040000000000", "99999999999999999999999999",
      "0x1.0x100.1.1",
      // digits that do not belong to the part's base
      "08", "09", "1.08", "0x", "0xg", "0x.1", "1.0x", "0b1", "1e3", "0o7",
      // signs, spaces, junk, other separators
      "-1", "+1", "1.2.3.-4", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4\n", "1.2.3.4 junk",
      "1.2.3.4junk", "1,2,3,4", "1 .2", "a.b.c.d", "::1", "1.2.3.4/24", "1.2.3.4:80",
      "\xef\xbc\x91.2.3.4",  // a full-width digit
      // embedded NULs
      "1.2.3.4\0"sv, "1.2\0.3.4"sv, "\0"sv, "\0001.2.3.4"sv,
  };
  for (const auto& c : cases) {
    CAPTURE(c);
    CHECK_FALSE(ae::parse_ipv4(c).has_value());
  }
}
