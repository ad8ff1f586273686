// max_outstanding: never more queries on the wire than the cap; the rest wait, FIFO.
#include "dns_server.hpp"

#include <anyevent/dns.hpp>
#include <anyevent/io.hpp>
#include <doctest/doctest.h>

#include <deque>

using namespace std::chrono_literals;
using strings = std::vector<std::string>;

TEST_CASE("dns/outstanding_cap") {
  dns_test::fake_dns fake;
  auto l = ae::loop::create();
  // The server holds each query for a moment, so the resolver could send more if it would.
  std::deque<dns_test::datagram> held;
  std::vector<std::string> arrived;
  std::size_t most_held = 0;
  ae::timer answer;
  std::function<void()> answer_one = [&] {
    if (held.empty()) return;
    const auto d = std::move(held.front());
    held.pop_front();
    fake.send(d, dns_test::make_reply(d.bytes, 0, {{1, {10, 0, 0, static_cast<std::uint8_t>(
                                                              dns_test::query_name(d.bytes)[1] - '0')}}}));
    if (!held.empty()) answer = ae::timer(5ms, [&] { answer_one(); }, l);
  };
  ae::io w(fake.fd(), ae::poll::read, [&] {
    while (auto d = fake.receive()) {
      arrived.push_back(dns_test::query_name(d->bytes));
      held.push_back(std::move(*d));
      most_held = std::max(most_held, held.size());
      if (!answer.active()) answer = ae::timer(5ms, [&] { answer_one(); }, l);
    }
  }, l);

  ae::dns::options o;
  o.servers = {fake.server()};
  o.timeout = 5s;
  o.max_outstanding = 2;
  ae::dns::resolver r(o, l);
  CHECK(r.config().max_outstanding == 2);
  std::vector<ae::guard> guards;
  std::vector<std::string> answers(10);
  std::vector<std::string> completion_order;
  for (int i = 0; i < 10; ++i)
    guards.push_back(r.a("q" + std::to_string(i) + ".test",
                         [&, i](std::error_code ec, strings v) {
                           CHECK(!ec);
                           answers[static_cast<std::size_t>(i)] = v.empty() ? "" : v[0];
                           completion_order.push_back("q" + std::to_string(i) + ".test");
                         }));
  CHECK(r.in_flight() == 2);
  CHECK(r.queued() == 8);
  REQUIRE(dns_test::run_until(l, [&] { return completion_order.size() == 10; }));
  CHECK(most_held <= 2);
  CHECK(most_held >= 1);
  strings expected;
  for (int i = 0; i < 10; ++i) expected.push_back("q" + std::to_string(i) + ".test");
  CHECK(arrived == expected);  // FIFO
  CHECK(completion_order == expected);
  for (int i = 0; i < 10; ++i) CHECK(answers[static_cast<std::size_t>(i)] == "10.0.0." + std::to_string(i));
  CHECK(r.in_flight() == 0);
  CHECK(r.queued() == 0);
}

TEST_CASE("dns/outstanding_cap_from_environment") {
  ::setenv("ANYEVENT_MAX_OUTSTANDING_DNS", "3", 1);
  auto l = ae::loop::create();
  ae::dns::options o;
  o.servers = {"127.0.0.1:1"};
  ae::dns::resolver r(o, l);
  CHECK(r.config().max_outstanding == 3);
  ::setenv("ANYEVENT_MAX_OUTSTANDING_DNS", "junk", 1);
  ae::dns::resolver r2(o, l);
  CHECK(r2.config().max_outstanding == 10);
  ::unsetenv("ANYEVENT_MAX_OUTSTANDING_DNS");
  ae::dns::resolver r3(o, l);
  CHECK(r3.config().max_outstanding == 10);
}
