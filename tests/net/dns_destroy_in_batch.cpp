// Destroying the resolver from the first answer callback of a batch that c-ares reads in
// one ares_process_fd() call: no other callback of the batch runs, their captures are
// released, and nothing c-ares still points at is freed early (run under ASan).
#include "dns_server.hpp"

#include <anyevent/dns.hpp>
#include <anyevent/io.hpp>
#include <doctest/doctest.h>

#include <memory>

using namespace std::chrono_literals;
using strings = std::vector<std::string>;

TEST_CASE("dns/destroy_resolver_inside_answer_batch") {
  auto l = ae::loop::create();
  dns_test::fake_dns fake;
  constexpr int batch = 5;
  std::vector<dns_test::datagram> held;
  ae::io server(fake.fd(), ae::poll::read, [&] {
    while (auto d = fake.receive()) held.push_back(std::move(*d));
    if (held.size() < batch) return;
    // Every answer at once: they wait together in the resolver's socket buffer.
    for (const auto& d : held) fake.send(d, dns_test::make_reply(d.bytes, 0, {{1, {127, 0, 0, 8}}}));
    held.clear();
  }, l);

  ae::dns::options o;
  o.servers = {fake.server()};
  o.timeout = 2s;
  auto r = std::make_unique<ae::dns::resolver>(o, l);
  auto token = std::make_shared<int>(0);  // captured by every callback
  int calls = 0;
  std::vector<ae::guard> guards;
  for (int i = 0; i < batch; ++i)
    guards.push_back(r->a("q" + std::to_string(i) + ".test", [&, token](std::error_code, strings) {
      ++calls;
      r.reset();
    }));
  REQUIRE(dns_test::run_until(l, [&] { return calls > 0; }));
  CHECK(!r);
  CHECK(token.use_count() == 1);  // the other callbacks are gone with the resolver
  guards.clear();
  bool tick = false;
  ae::timer t(50ms, [&] { tick = true; }, l);
  dns_test::run_until(l, [&] { return tick; });
  CHECK(calls == 1);
  server.stop();
  CHECK(!l.run_nowait());  // nothing of the resolver is left on the loop
}
