// An answer too big for UDP comes back truncated and is retried over TCP.
#include "dns_server.hpp"

#include <anyevent/dns.hpp>
#include <doctest/doctest.h>

using namespace std::chrono_literals;
using dns_test::capture;
using dns_test::outcome;
using strings = std::vector<std::string>;

TEST_CASE("dns/tcp_fallback_on_truncation") {
  dns_test::dnsmasq server;
  auto l = ae::loop::create();
  const std::string whole = std::string(200, 'x') + std::string(200, 'y') +
                            std::string(200, 'z') + std::string(200, 'w');
  SUBCASE("plain UDP, 512 bytes") {
    ae::dns::options o;
    o.servers = {server.server()};
    ae::dns::resolver r(o, l);
    outcome<strings> t;
    auto g = r.txt("big.test", capture(t));
    REQUIRE(dns_test::run_until(l, [&] { return t.done(); }));
    CHECK(!t.ec);
    CHECK(t.value == strings{whole});
  }
  SUBCASE("always TCP") {
    ae::dns::options o;
    o.servers = {server.server()};
    o.use_vc = true;
    ae::dns::resolver r(o, l);
    outcome<strings> t, a;
    auto g = r.txt("big.test", capture(t));
    auto g2 = r.a("h.test", capture(a));
    REQUIRE(dns_test::run_until(l, [&] { return t.done() && a.done(); }));
    CHECK(t.value == strings{whole});
    CHECK(a.value == strings{"127.0.0.3"});
  }
  SUBCASE("EDNS0 fits it in one datagram") {
    ae::dns::options o;
    o.servers = {server.server()};
    o.edns0 = true;
    ae::dns::resolver r(o, l);
    outcome<strings> t;
    auto g = r.txt("big.test", capture(t));
    REQUIRE(dns_test::run_until(l, [&] { return t.done(); }));
    CHECK(t.value == strings{whole});
  }
}
