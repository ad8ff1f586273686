// NXDOMAIN, NODATA and server failures map to the documented errors.
#include "dns_server.hpp"

#include <anyevent/dns.hpp>
#include <anyevent/io.hpp>
#include <doctest/doctest.h>

#include <sys/socket.h>

using namespace std::chrono_literals;
using dns_test::capture;
using dns_test::outcome;
using strings = std::vector<std::string>;

TEST_CASE("dns/nxdomain_and_nodata") {
  dns_test::dnsmasq server;
  auto l = ae::loop::create();
  ae::dns::options o;
  o.servers = {server.server()};
  ae::dns::resolver r(o, l);
  outcome<strings> nx, nodata;
  outcome<std::vector<ae::dns::mx_record>> nomx;
  outcome<ae::dns::host_addresses> nohost;
  auto g1 = r.a("nothing.test", capture(nx));
  auto g2 = r.aaaa("m2.test", capture(nodata));  // IPv4 only
  auto g3 = r.mx("h.test", capture(nomx));  // h.test exists, has no MX
  auto g4 = r.host("nothing.test", AF_UNSPEC, capture(nohost));
  REQUIRE(dns_test::run_until(l, [&] { return nx.done() && nodata.done() && nomx.done() && nohost.done(); }));
  CHECK(nx.ec == std::errc::no_such_device_or_address);
  CHECK(nx.value.empty());
  CHECK(ae::dns::not_found(nodata.ec));
  CHECK(nomx.ec == std::errc::no_message_available);
  CHECK(ae::dns::not_found(nomx.ec));
  CHECK(nohost.ec == std::errc::no_such_device_or_address);
  CHECK(!ae::dns::not_found(std::make_error_code(std::errc::timed_out)));
}

TEST_CASE("dns/server_failures") {
  // A fake server that answers SERVFAIL or REFUSED depending on the name.
  dns_test::fake_dns fake;
  auto l = ae::loop::create();
  ae::io w(fake.fd(), ae::poll::read, [&] {
    while (auto d = fake.receive()) {
      const auto name = dns_test::query_name(d->bytes);
      fake.send(*d, dns_test::make_reply(d->bytes, name == "fail.test" ? 2 : 5, {}));
    }
  }, l);
  ae::dns::options o;
  o.servers = {fake.server()};
  o.timeout = 2s;
  o.attempts = 1;
  ae::dns::resolver r(o, l);
  outcome<strings> fail, refused;
  auto g1 = r.a("fail.test", capture(fail));
  auto g2 = r.a("refused.test", capture(refused));
  REQUIRE(dns_test::run_until(l, [&] { return fail.done() && refused.done(); }));
  // c-ares takes SERVFAIL and REFUSED as "try another server"; when none is left the
  // query fails as refused.
  CHECK(fail.ec == std::errc::connection_refused);
  CHECK(refused.ec == std::errc::connection_refused);
}
