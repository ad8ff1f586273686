// SRV ordering: priority first, then RFC 2782 weighted random order within a priority.
#include "dns_server.hpp"

#include <anyevent/dns.hpp>
#include <doctest/doctest.h>

using namespace std::chrono_literals;

TEST_CASE("dns/srv_order") {
  dns_test::dnsmasq server;
  auto l = ae::loop::create();
  ae::dns::options o;
  o.servers = {server.server()};
  ae::dns::resolver r(o, l);
  int rounds = 0, zero_rounds = 0, heavy_first = 0, zero_first = 0;
  const int total = 200;
  std::vector<ae::guard> guards;
  for (int i = 0; i < total; ++i) {
    guards.push_back(r.srv("sip", "udp", "s.test", [&](std::error_code ec, std::vector<ae::dns::srv_record> v) {
      ++rounds;
      REQUIRE(!ec);
      REQUIRE(v.size() == 4);
      for (std::size_t k = 1; k < v.size(); ++k) CHECK(v[k - 1].priority <= v[k].priority);
      CHECK(v[0].target == "p5.s.test");
      CHECK(v[3].target == "p20.s.test");
      if (v[1].target == "p10a.s.test") ++heavy_first;  // weight 90 against 10
    }));
    guards.push_back(r.srv("_zero", "_tcp", "s.test", [&](std::error_code ec, std::vector<ae::dns::srv_record> v) {
      REQUIRE(!ec);
      ++zero_rounds;
      REQUIRE(v.size() == 2);
      if (v[0].target == "z0.s.test") ++zero_first;  // weight 0 against 100: rarely first
    }));
  }
  REQUIRE(dns_test::run_until(l, [&] { return rounds == total && zero_rounds == total; }));
  // Expected 180 and 2; the bounds are many standard deviations wide.
  CHECK(heavy_first > total * 6 / 10);
  CHECK(heavy_first < total);
  CHECK(zero_first < total / 10);
}
