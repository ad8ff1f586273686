// Search domains and ndots, as resolv.conf configures them.
#include "dns_server.hpp"

#include <anyevent/dns.hpp>
#include <doctest/doctest.h>

using namespace std::chrono_literals;
using dns_test::capture;
using dns_test::outcome;
using strings = std::vector<std::string>;

TEST_CASE("dns/search_domains") {
  dns_test::dnsmasq server;
  auto l = ae::loop::create();
  ae::dns::options o;
  o.servers = {server.server()};
  o.search = {"nowhere.test", "test"};
  o.ndots = 1;
  ae::dns::resolver r(o, l);
  outcome<strings> shortname, absolute, dotted;
  auto g1 = r.a("h", capture(shortname));      // h.nowhere.test (NXDOMAIN), then h.test
  auto g2 = r.a("h.", capture(absolute));      // absolute: no search
  auto g3 = r.a("h.test", capture(dotted));    // enough dots: as is first
  REQUIRE(dns_test::run_until(l, [&] { return shortname.done() && absolute.done() && dotted.done(); }));
  CHECK(shortname.value == strings{"127.0.0.3"});
  CHECK(absolute.ec);
  CHECK(dotted.value == strings{"127.0.0.3"});
}
