// ae::address as a value type: construction, bytes, family, equality, order and hashing.
#include <doctest/doctest.h>

#include <anyevent/address.hpp>

#include <map>
#include <set>
#include <unordered_set>
#include <vector>

TEST_CASE("address/construct") {
  const ae::address d;
  CHECK(d.family() == AF_INET);
  CHECK(d == ae::address::ipv4({0, 0, 0, 0}));

  const auto v4 = ae::address::ipv4({192, 0, 2, 1});
  CHECK(v4.family() == AF_INET);
  CHECK(ae::address_family(v4) == AF_INET);
  REQUIRE(v4.bytes().size() == 4);
  CHECK(v4.bytes()[0] == 192);
  CHECK(v4.bytes()[3] == 1);

  std::array<std::uint8_t, 16> o{};
  o[15] = 1;
  const auto v6 = ae::address::ipv6(o);
  CHECK(v6.family() == AF_INET6);
  REQUIRE(v6.bytes().size() == 16);
  CHECK(v6.bytes()[15] == 1);

  CHECK(ae::address::unix_socket().family() == AF_UNIX);
  CHECK(ae::address::unix_socket().bytes().empty());
}

TEST_CASE("address/from_bytes") {
  const std::vector<std::uint8_t> four{1, 2, 3, 4}, sixteen(16, 7), five(5, 0), none;
  CHECK(ae::address::from_bytes(four) == ae::address::ipv4({1, 2, 3, 4}));
  CHECK(ae::address::from_bytes(sixteen)->family() == AF_INET6);
  CHECK_FALSE(ae::address::from_bytes(five).has_value());
  CHECK_FALSE(ae::address::from_bytes(none).has_value());
}

TEST_CASE("address/v4_mapped") {
  CHECK(ae::parse_ipv6("::ffff:1.2.3.4")->is_v4_mapped());
  CHECK_FALSE(ae::parse_ipv6("::ffff:0:1.2.3.4")->is_v4_mapped());
  CHECK_FALSE(ae::parse_ipv6("::1.2.3.4")->is_v4_mapped());
  CHECK_FALSE(ae::address::ipv4({1, 2, 3, 4}).is_v4_mapped());
}

TEST_CASE("address/equality_and_order") {
  const auto a = ae::address::ipv4({10, 0, 0, 1});
  const auto b = ae::address::ipv4({10, 0, 0, 2});
  const auto mapped = *ae::parse_ipv6("::ffff:10.0.0.1");
  const auto u = ae::address::unix_socket();
  CHECK(a == a);
  CHECK(a != b);
  CHECK(a < b);
  CHECK(a != mapped);  // different families never compare equal
  CHECK(b < mapped);   // IPv4 < IPv6 < unix/
  CHECK(mapped < u);
  CHECK(*ae::parse_ipv6("::1") < *ae::parse_ipv6("::2"));
  CHECK(*ae::parse_ipv6("1::") > *ae::parse_ipv6("::ffff"));

  std::set<ae::address> ordered{u, mapped, b, a};
  CHECK(std::vector<ae::address>(ordered.begin(), ordered.end()) ==
        std::vector<ae::address>{a, b, mapped, u});
  std::map<ae::address, int> m{{a, 1}};
  CHECK(m.count(*ae::parse_address("10.0.0.1")) == 1);
}

TEST_CASE("address/hash") {
  const std::hash<ae::address> h;
  CHECK(h(*ae::parse_address("10.0.0.1")) == h(ae::address::ipv4({10, 0, 0, 1})));
  std::unordered_set<ae::address> seen;
  seen.insert(*ae::parse_address("10.0.0.1"));
  seen.insert(*ae::parse_address("10.1"));  // the same address
  seen.insert(*ae::parse_ipv6("::ffff:10.0.0.1"));
  seen.insert(*ae::parse_address("::1"));
  seen.insert(ae::address::unix_socket());
  CHECK(seen.size() == 4);
  // 0.0.0.0 and :: differ by family alone
  CHECK(h(ae::address::ipv4({})) != h(ae::address::ipv6({})));
}
