// Cancellation: a destroyed guard or resolver means the callback never runs — also when it
// happens inside another query's callback, and also for queries still waiting for a slot.
#include "dns_server.hpp"

#include <anyevent/dns.hpp>
#include <doctest/doctest.h>

#include <memory>

using namespace std::chrono_literals;
using dns_test::capture;
using dns_test::outcome;
using strings = std::vector<std::string>;

namespace {
ae::dns::options local(const dns_test::dnsmasq& d, std::size_t cap = 10) {
  ae::dns::options o;
  o.servers = {d.server()};
  o.timeout = 2s;
  o.max_outstanding = cap;
  return o;
}
}  // namespace

TEST_CASE("dns/cancel_by_guard") {
  dns_test::dnsmasq server;
  auto l = ae::loop::create();
  ae::dns::resolver r(local(server), l);
  outcome<strings> cancelled, kept, later;
  {
    auto g = r.a("h.test", capture(cancelled));
  }  // destroyed at once: on the wire already
  auto g2 = r.a("h.test", capture(kept));
  REQUIRE(dns_test::run_until(l, [&] { return kept.done(); }));
  auto g3 = r.a("a.test", capture(later));  // one more round trip for good measure
  REQUIRE(dns_test::run_until(l, [&] { return later.done(); }));
  CHECK(cancelled.calls == 0);
  CHECK(r.in_flight() == 0);
}

TEST_CASE("dns/cancel_queued") {
  dns_test::dnsmasq server;
  auto l = ae::loop::create();
  ae::dns::resolver r(local(server, 1), l);
  outcome<strings> first, second, third;
  auto g1 = r.a("h.test", capture(first));
  auto g2 = r.a("h.test", capture(second));
  auto g3 = r.a("a.test", capture(third));
  CHECK(r.queued() == 2);
  g2.reset();
  CHECK(r.queued() == 1);
  REQUIRE(dns_test::run_until(l, [&] { return first.done() && third.done(); }));
  CHECK(second.calls == 0);
  CHECK(third.value == strings{"127.0.0.2"});
}

TEST_CASE("dns/cancel_from_another_callback") {
  dns_test::dnsmasq server;
  auto l = ae::loop::create();
  ae::dns::resolver r(local(server), l);
  // Both answers arrive close together; whichever callback runs first cancels the other,
  // which may already be answered but not yet delivered.
  ae::guard ga, gb;
  int a_calls = 0, b_calls = 0;
  ga = r.a("h.test", [&](std::error_code, strings) {
    ++a_calls;
    gb.reset();
  });
  gb = r.a("h.test", [&](std::error_code, strings) {
    ++b_calls;
    ga.reset();
  });
  outcome<strings> sentinel;
  auto gs = r.a("a.test", capture(sentinel));
  REQUIRE(dns_test::run_until(l, [&] { return a_calls + b_calls > 0 && sentinel.done(); }));
  outcome<strings> after;
  auto g4 = r.a("h.test", capture(after));
  REQUIRE(dns_test::run_until(l, [&] { return after.done(); }));
  CHECK(a_calls + b_calls == 1);
}

TEST_CASE("dns/destroy_resolver_from_callback") {
  dns_test::dnsmasq server;
  auto l = ae::loop::create();
  auto r = std::make_unique<ae::dns::resolver>(local(server, 1), l);
  int first = 0, others = 0;
  std::vector<ae::guard> guards;
  guards.push_back(r->a("h.test", [&](std::error_code, strings) {
    ++first;
    r.reset();  // inside our own resolver's callback
  }));
  for (int i = 0; i < 5; ++i)
    guards.push_back(r->a("a.test", [&](std::error_code, strings) { ++others; }));
  REQUIRE(dns_test::run_until(l, [&] { return first == 1; }));
  CHECK(!r);
  guards.clear();  // guards outliving their resolver are harmless
  bool tick = false;
  ae::timer t(50ms, [&] { tick = true; }, l);
  dns_test::run_until(l, [&] { return tick; });
  CHECK(others == 0);
}

TEST_CASE("dns/destroy_resolver_with_queries_in_flight") {
  dns_test::fake_dns silent;
  auto l = ae::loop::create();
  int calls = 0;
  ae::guard g;
  {
    ae::dns::options o;
    o.servers = {silent.server()};
    ae::dns::resolver r(o, l);
    g = r.a("x.test", [&](std::error_code, strings) { ++calls; });
    auto g2 = r.mx("x.test", [&](std::error_code, std::vector<ae::dns::mx_record>) { ++calls; });
    g2.release();
    l.run_nowait();
    CHECK(r.in_flight() == 2);
  }
  g.reset();
  l.run_nowait();
  CHECK(calls == 0);
  CHECK(!l.run_nowait());  // nothing of the resolver is left on the loop
}

TEST_CASE("dns/guard_release_runs_on") {
  dns_test::dnsmasq server;
  auto l = ae::loop::create();
  ae::dns::resolver r(local(server), l);
  outcome<strings> o;
  r.a("h.test", capture(o)).release();
  REQUIRE(dns_test::run_until(l, [&] { return o.done(); }));
  CHECK(o.value == strings{"127.0.0.3"});
}
