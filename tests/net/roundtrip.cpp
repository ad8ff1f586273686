// Round trips over many generated addresses: parse(format(a)) == a, format is canonical,
// and inet_pton / inet_ntop / inet_aton agree wherever their grammars and ours coincide.
#include <doctest/doctest.h>

#include <anyevent/address.hpp>

#include <arpa/inet.h>

#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

std::mt19937_64& rng() {
  static std::mt19937_64 r(20240601);  // fixed seed: failures reproduce
  return r;
}

std::uint32_t random_u32() { return static_cast<std::uint32_t>(rng()()); }

ae::address random_ipv4() {
  const std::uint32_t v = random_u32();
  return ae::address::ipv4({static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16),
                            static_cast<std::uint8_t>(v >> 8), static_cast<std::uint8_t>(v)});
}

// IPv6 addresses with the shapes formatting cares about: zero runs of every length and
// place, the v4-mapped / v4-compatible / v4-translated prefixes, and random groups.
ae::address random_ipv6() {
  std::array<std::uint16_t, 8> w{};
  const unsigned shape = random_u32() % 8;
  for (auto& g : w) {
    const unsigned pick = random_u32() % 4;
    g = pick == 0 ? 0 : pick == 1 ? static_cast<std::uint16_t>(random_u32() % 16)
                                  : static_cast<std::uint16_t>(random_u32());
  }
  if (shape == 1) std::fill(w.begin(), w.begin() + 5, 0), w[5] = 0xffff;        // v4-mapped
  if (shape == 2) std::fill(w.begin(), w.begin() + 6, 0);                        // v4-compatible-ish
  if (shape == 3) std::fill(w.begin(), w.begin() + 4, 0), w[4] = 0xffff, w[5] = 0;  // translated
  if (shape == 4) {  // one zero run at a random place
    const unsigned from = random_u32() % 8, len = 1 + random_u32() % (8 - from);
    std::fill(w.begin() + from, w.begin() + from + len, 0);
  }
  if (shape == 5) w = {};
  std::array<std::uint8_t, 16> o{};
  for (std::size_t i = 0; i < 8; ++i) {
    o[2 * i] = static_cast<std::uint8_t>(w[i] >> 8);
    o[2 * i + 1] = static_cast<std::uint8_t>(w[i]);
  }
  return ae::address::ipv6(o);
}

bool is_v4_translated(const ae::address& a) {
  const auto b = a.bytes();
  for (std::size_t i = 0; i < 8; ++i)
    if (b[i] != 0) return false;
  return b[8] == 0xff && b[9] == 0xff && b[10] == 0 && b[11] == 0;
}

std::string ntop(const ae::address& a) {
  char buf[INET6_ADDRSTRLEN] = {};
  REQUIRE(::inet_ntop(a.family(), a.bytes().data(), buf, sizeof buf) != nullptr);
  return buf;
}

// Writes one IPv4 part in base 8, 10 or 16 (the inet_aton spellings).
std::string spell(std::uint32_t v, unsigned base) {
  char buf[40];
  if (base == 16) std::snprintf(buf, sizeof buf, "0x%x", v);
  else if (base == 8) std::snprintf(buf, sizeof buf, "0%o", v);
  else std::snprintf(buf, sizeof buf, "%u", v);
  return buf;
}

}  // namespace

TEST_CASE("roundtrip/ipv4_against_libc") {
  for (int i = 0; i < 20000; ++i) {
    const auto a = random_ipv4();
    const std::string text = ae::format_ipv4(a);
    CAPTURE(text);
    CHECK(text == ntop(a));
    CHECK(ae::parse_ipv4(text) == a);
    CHECK(ae::parse_address(text) == a);
    CHECK(ae::format_address(a) == text);
    in_addr x{};
    REQUIRE(::inet_pton(AF_INET, text.c_str(), &x) == 1);
    CHECK(std::memcmp(&x, a.bytes().data(), 4) == 0);
  }
}

TEST_CASE("roundtrip/ipv4_all_spellings") {
  // 1 to 4 parts, each in a random base: parse_ipv4 and inet_aton agree, format is canonical.
  for (int i = 0; i < 20000; ++i) {
    const auto a = random_ipv4();
    const auto b = a.bytes();
    const std::uint32_t v = std::uint32_t{b[0]} << 24 | std::uint32_t{b[1]} << 16 |
                            std::uint32_t{b[2]} << 8 | b[3];
    const unsigned parts = 1 + random_u32() % 4;
    std::vector<std::uint32_t> values;
    for (unsigned p = 0; p + 1 < parts; ++p) values.push_back(b[p]);
    values.push_back(parts == 1 ? v : v & ((1u << (8 * (5 - parts))) - 1));
    std::string text;
    for (std::size_t p = 0; p < values.size(); ++p) {
      if (p) text += '.';
      const unsigned base = std::array<unsigned, 3>{8, 10, 16}[random_u32() % 3];
      text += spell(values[p], values[p] == 0 && base == 10 ? 8 : base);
    }
    CAPTURE(text);
    const auto parsed = ae::parse_ipv4(text);
    REQUIRE(parsed.has_value());
    CHECK(*parsed == a);
    in_addr x{};
    REQUIRE(::inet_aton(text.c_str(), &x) == 1);
    CHECK(std::memcmp(&x, parsed->bytes().data(), 4) == 0);
    CHECK(ae::parse_ipv4(ae::format_ipv4(*parsed)) == parsed);
    // and as the IPv4 tail of an IPv6 address, when it has a dot
    if (parts > 1) CHECK(ae::parse_address("::ffff:" + text) == a);
  }
}

TEST_CASE("roundtrip/ipv6_against_libc") {
  for (int i = 0; i < 40000; ++i) {
    const auto a = random_ipv6();
    const std::string text = ae::format_ipv6(a);
    CAPTURE(text);
    CHECK(ae::parse_ipv6(text) == a);
    CHECK(ae::format_ipv6(*ae::parse_ipv6(text)) == text);
    // glibc differs only in writing v4-translated addresses in hex
    if (!is_v4_translated(a)) CHECK(text == ntop(a));
    in6_addr x{};
    REQUIRE(::inet_pton(AF_INET6, text.c_str(), &x) == 1);
    CHECK(std::memcmp(&x, a.bytes().data(), 16) == 0);
    // parse_address unmaps v4-mapped addresses; everything else comes back as it was
    const auto any = ae::parse_address(ae::format_address(a));
    REQUIRE(any.has_value());
    if (a.is_v4_mapped()) {
      CHECK(any->family() == AF_INET);
      CHECK(std::equal(any->bytes().begin(), any->bytes().end(), a.bytes().begin() + 12));
    } else {
      CHECK(*any == a);
    }
  }
}

TEST_CASE("roundtrip/ipv6_other_spellings") {
  // The full eight-group form, upper case, with leading zeros: all parse to the same address.
  for (int i = 0; i < 10000; ++i) {
    const auto a = random_ipv6();
    const auto b = a.bytes();
    char full[64], upper[64];
    std::snprintf(full, sizeof full, "%04x:%04x:%04x:%04x:%04x:%04x:%04x:%04x", b[0] << 8 | b[1],
                  b[2] << 8 | b[3], b[4] << 8 | b[5], b[6] << 8 | b[7], b[8] << 8 | b[9],
                  b[10] << 8 | b[11], b[12] << 8 | b[13], b[14] << 8 | b[15]);
    std::snprintf(upper, sizeof upper, "%X:%X:%X:%X:%X:%X:%u.%u.%u.%u", b[0] << 8 | b[1],
                  b[2] << 8 | b[3], b[4] << 8 | b[5], b[6] << 8 | b[7], b[8] << 8 | b[9],
                  b[10] << 8 | b[11], b[12], b[13], b[14], b[15]);
    CAPTURE(full);
    CHECK(ae::parse_ipv6(full) == a);
    CHECK(ae::parse_ipv6(upper) == a);
    in6_addr x{};
    REQUIRE(::inet_pton(AF_INET6, upper, &x) == 1);
    CHECK(std::memcmp(&x, b.data(), 16) == 0);
  }
}

TEST_CASE("roundtrip/parse_format_parse") {
  // parse(format(parse(x))) == parse(x) for every string the other suites use.
  const char* inputs[] = {
      "127.0.0.1", "10.1", "10.0x020304", "0x12345678", "0377.0377.0377.0377", "0", "::", "::1",
      "1::", "::2", "::ffff", "::ffff:1.2.3.4", "::1.2.3.4", "::ffff:0:1.2.3.4", "192.89.98.1",
      "2002:5345::10.0.0.1", "2001:DB8:0:0:0:0:0:1", "1:0:0:2:0:0:0:3", "fe80::1:2", "unix/",
      "::ffff:10.1", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "64:ff9b::192.0.2.33",
  };
  for (const char* x : inputs) {
    CAPTURE(x);
    const auto a = ae::parse_address(x);
    REQUIRE(a.has_value());
    CHECK(ae::parse_address(ae::format_address(*a)) == a);
    if (const auto v6 = ae::parse_ipv6(x)) CHECK(ae::parse_ipv6(ae::format_ipv6(*v6)) == v6);
    if (const auto v4 = ae::parse_ipv4(x)) CHECK(ae::parse_ipv4(ae::format_ipv4(*v4)) == v4);
  }
}

TEST_CASE("roundtrip/hostport") {
  // format_hostport then parse_hostport gives the pair back, for generated hosts and services.
  const std::vector<std::string> services{"80", "http", "https=443", "0", "/tmp/s", "[x", "a#b"};
  for (int i = 0; i < 5000; ++i) {
    std::string host;
    switch (random_u32() % 4) {
      case 0: host = ae::format_address(random_ipv4()); break;
      case 1: host = ae::format_ipv6(random_ipv6()); break;
      case 2: host = "host" + std::to_string(random_u32() % 1000) + ".example"; break;
      default: host = "unix/"; break;
    }
    const std::string& service = services[random_u32() % services.size()];
    const std::string text = ae::format_hostport(host, service);
    CAPTURE(text);
    const auto r = ae::parse_hostport(text);
    REQUIRE(r.has_value());
    CHECK(r->first == host);
    CHECK(r->second == service);
    // and the address itself survives the trip through a sockaddr
    if (const auto a = ae::parse_address(host); a && a->family() != AF_UNIX && service == "80") {
      const auto [port, back] = ae::unpack_sockaddr(ae::pack_sockaddr(r->second, *a));
      CHECK(port == "80");
      CHECK(back == *a);
    }
  }
}
