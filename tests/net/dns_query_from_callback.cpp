// Queries started inside an answer callback complete, and not before the call that started
// them returned — also one that fails at once (a name c-ares is never asked about).
#include "dns_server.hpp"

#include <anyevent/dns.hpp>
#include <doctest/doctest.h>

using namespace std::chrono_literals;
using dns_test::capture;
using dns_test::outcome;
using strings = std::vector<std::string>;

TEST_CASE("dns/query_started_in_callback") {
  dns_test::dnsmasq server;
  auto l = ae::loop::create();
  ae::dns::options o;
  o.servers = {server.server()};
  o.timeout = 2s;
  ae::dns::resolver r(o, l);
  outcome<strings> first;
  outcome<std::vector<ae::dns::mx_record>> mx;
  outcome<strings> bad;
  bool mx_returned = false, bad_returned = false;
  bool mx_early = false, bad_early = false;
  ae::guard gmx, gbad;
  auto g = r.a("h.test", [&](std::error_code ec, strings v) {
    capture(first)(ec, std::move(v));
    gmx = r.mx("m.test", [&](std::error_code e, std::vector<ae::dns::mx_record> m) {
      mx_early = !mx_returned;
      capture(mx)(e, std::move(m));
    });
    mx_returned = true;
    gbad = r.a("bad..name", [&](std::error_code e, strings s) {
      bad_early = !bad_returned;
      capture(bad)(e, std::move(s));
    });
    bad_returned = true;
  });
  REQUIRE(dns_test::run_until(l, [&] { return mx.done() && bad.done(); }));
  CHECK(first.value == strings{"127.0.0.3"});
  CHECK(!mx.ec);
  REQUIRE(mx.value.size() == 3);
  CHECK(mx.value[0].exchange == "mx5.m.test");
  CHECK(bad.ec == std::errc::invalid_argument);
  CHECK(!mx_early);
  CHECK(!bad_early);
  CHECK(mx.calls == 1);
  CHECK(bad.calls == 1);
}
