// A server that never answers: ETIMEDOUT after exactly the configured attempts.
#include "dns_server.hpp"

#include <anyevent/dns.hpp>
#include <doctest/doctest.h>

using namespace std::chrono_literals;
using dns_test::capture;
using dns_test::outcome;
using strings = std::vector<std::string>;

TEST_CASE("dns/timeout_after_attempts") {
  dns_test::fake_dns silent;  // bound, never read while the query runs
  auto l = ae::loop::create();
  ae::dns::options o;
  o.servers = {silent.server()};
  o.timeout = 100ms;
  o.attempts = 3;
  ae::dns::resolver r(o, l);
  outcome<strings> res;
  auto g = r.a("slow.test", capture(res));
  REQUIRE(dns_test::run_until(l, [&] { return res.done(); }));
  CHECK(res.ec == std::errc::timed_out);
  CHECK(res.calls == 1);
  int sent = 0;
  while (auto d = silent.receive()) {
    CHECK(dns_test::query_name(d->bytes) == "slow.test");
    ++sent;
  }
  CHECK(sent == 3);
  CHECK(r.in_flight() == 0);
}

TEST_CASE("dns/connection_refused") {
  // A port nobody listens on: ICMP port unreachable, not a timeout.
  std::string server;
  {
    dns_test::fake_dns gone;
    server = gone.server();
  }
  auto l = ae::loop::create();
  ae::dns::options o;
  o.servers = {server};
  o.timeout = 5s;
  o.attempts = 1;
  ae::dns::resolver r(o, l);
  outcome<strings> res;
  auto g = r.a("x.test", capture(res));
  REQUIRE(dns_test::run_until(l, [&] { return res.done(); }));
  CHECK(res.ec == std::errc::connection_refused);
}
