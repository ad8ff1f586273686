// Query names: IDNA for non-ASCII, errors (never truncation) for what cannot be sent.
#include "dns_server.hpp"

#include <anyevent/dns.hpp>
#include <doctest/doctest.h>

using namespace std::chrono_literals;
using dns_test::capture;
using dns_test::outcome;
using strings = std::vector<std::string>;

namespace {
std::error_code query(ae::loop& l, ae::dns::resolver& r, std::string_view name,
                      strings* value = nullptr) {
  outcome<strings> o;
  auto g = r.a(name, capture(o));
  CHECK(o.calls == 0);  // even a refused name answers from the loop, later
  REQUIRE(dns_test::run_until(l, [&] { return o.done(); }));
  CHECK(o.calls == 1);
  if (value) *value = o.value;
  return o.ec;
}
}  // namespace

TEST_CASE("dns/names") {
  dns_test::dnsmasq server;
  auto l = ae::loop::create();
  ae::dns::options o;
  o.servers = {server.server()};
  ae::dns::resolver r(o, l);

  SUBCASE("IDNA 2008") {
    strings v;
    CHECK(!query(l, r, "b\xc3\xbc" "cher.test", &v));  // bücher.test
    CHECK(v == strings{"127.0.0.9"});
    CHECK(!query(l, r, "B\xc3\x9c" "CHER.test", &v));  // BÜCHER.test maps the same
    CHECK(v == strings{"127.0.0.9"});
    CHECK(query(l, r, "\xff\xfe.test") == std::errc::invalid_argument);  // not UTF-8
  }
  SUBCASE("lengths") {
    const std::string l63(63, 'a'), l64(64, 'a');
    // 63+1+63+1+63+1+56+1+4 = 253 bytes: the longest name there is.
    const std::string longest = l63 + "." + l63 + "." + l63 + "." + std::string(56, 'd') + ".test";
    REQUIRE(longest.size() == 253);
    CHECK(query(l, r, longest) == std::errc::no_such_device_or_address);  // sent, NXDOMAIN
    CHECK(query(l, r, longest + ".") == std::errc::no_such_device_or_address);
    CHECK(query(l, r, "x" + longest) == std::errc::filename_too_long);
    CHECK(query(l, r, l63 + ".test") == std::errc::no_such_device_or_address);
    CHECK(query(l, r, l64 + ".test") == std::errc::filename_too_long);
    CHECK(query(l, r, std::string(1 << 20, 'a')) == std::errc::filename_too_long);
    CHECK(query(l, r, std::string(4000, 'a') + "\xc3\xbc") == std::errc::filename_too_long);
  }
  SUBCASE("bad bytes and empty labels") {
    CHECK(query(l, r, "") == std::errc::invalid_argument);
    CHECK(query(l, r, "a..test") == std::errc::invalid_argument);
    CHECK(query(l, r, ".test") == std::errc::invalid_argument);
    CHECK(query(l, r, std::string("h\0.test", 7)) == std::errc::invalid_argument);
    CHECK(query(l, r, "h test") == std::errc::invalid_argument);
    CHECK(query(l, r, "h\\.test") == std::errc::invalid_argument);
    CHECK(query(l, r, "h\n.test") == std::errc::invalid_argument);
    outcome<strings> rev;
    auto g = r.reverse_lookup("not an address", capture(rev));
    REQUIRE(dns_test::run_until(l, [&] { return rev.done(); }));
    CHECK(rev.ec == std::errc::invalid_argument);
  }
}
