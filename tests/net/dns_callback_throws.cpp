// An exception thrown by an answer callback leaves loop.run() (never unwinding through
// c-ares), and the other answers of the same batch are still delivered afterwards.
#include "dns_server.hpp"

#include <anyevent/dns.hpp>
#include <anyevent/io.hpp>
#include <doctest/doctest.h>

#include <stdexcept>

using namespace std::chrono_literals;
using strings = std::vector<std::string>;

TEST_CASE("dns/callback_exception_leaves_run") {
  auto l = ae::loop::create();
  dns_test::fake_dns fake;
  constexpr int batch = 4;
  std::vector<dns_test::datagram> held;
  bool holding = true;  // until the first batch is complete; then every query at once
  ae::io server(fake.fd(), ae::poll::read, [&] {
    while (auto d = fake.receive()) held.push_back(std::move(*d));
    if (holding && held.size() < batch) return;
    holding = false;
    for (const auto& d : held) fake.send(d, dns_test::make_reply(d.bytes, 0, {{1, {127, 0, 0, 9}}}));
    held.clear();
  }, l);

  ae::dns::options o;
  o.servers = {fake.server()};
  o.timeout = 2s;
  ae::dns::resolver r(o, l);
  int calls = 0, good = 0;
  std::vector<ae::guard> guards;
  for (int i = 0; i < batch; ++i)
    guards.push_back(r.a("e" + std::to_string(i) + ".test", [&](std::error_code ec, strings v) {
      if (++calls == 1) throw std::runtime_error("from a dns callback");
      if (!ec && v == strings{"127.0.0.9"}) ++good;
    }));
  std::string what;
  try {
    l.run();
  } catch (const std::runtime_error& e) {
    what = e.what();
  }
  CHECK(what == "from a dns callback");
  REQUIRE(dns_test::run_until(l, [&] { return calls == batch; }));
  CHECK(good == batch - 1);
  CHECK(r.in_flight() == 0);
  // The resolver still works.
  dns_test::outcome<strings> after;
  auto g = r.a("after.test", dns_test::capture(after));
  REQUIRE(dns_test::run_until(l, [&] { return after.done(); }));
  CHECK(after.value == strings{"127.0.0.9"});
}
