// One query in flight, each asked from the previous one's callback, with default options
// (stay_open off): c-ares closes its sockets when its last query ends, so the next question
// must reach it from inside the answer callback for the socket (and its source port) to stay.
#include "dns_server.hpp"

#include <anyevent/dns.hpp>
#include <anyevent/io.hpp>
#include <doctest/doctest.h>

#include <functional>
#include <set>

using namespace std::chrono_literals;
using strings = std::vector<std::string>;

TEST_CASE("dns/chained_queries_reuse_one_socket") {
  auto l = ae::loop::create();
  dns_test::fake_dns fake;
  std::set<std::vector<std::uint8_t>> peers;  // source addresses (and ports) seen
  int answered = 0;
  ae::io server(fake.fd(), ae::poll::read, [&] {
    while (auto d = fake.receive()) {
      peers.insert(d->from);
      ++answered;
      fake.send(*d, dns_test::make_reply(d->bytes, 0, {{1, {127, 0, 0, 7}}}));
    }
  }, l);

  ae::dns::options o;
  o.servers = {fake.server()};
  o.timeout = 2s;
  REQUIRE(!o.stay_open);
  ae::dns::resolver r(o, l);
  constexpr int total = 8;
  int done = 0, failed = 0;
  std::function<void()> ask = [&] {
    r.a("chain.test", [&](std::error_code ec, strings v) {
      ++done;
      if (ec || v != strings{"127.0.0.7"}) ++failed;
      if (done < total) ask();
    }).release();
  };
  ask();
  REQUIRE(dns_test::run_until(l, [&] { return done == total; }));
  CHECK(failed == 0);
  CHECK(answered == total);
  CHECK(peers.size() == 1);
}
