// stop_read / start_read: while stopped, neither on_read nor queued requests run, whatever
// arrives; start_read, a new on_read or a new request starts reading again.
#include "support.hpp"

using namespace handle_test;

TEST_CASE("handle/stop_read/pauses_on_read") {
  auto p = make_socketpair();
  std::string got;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_read = [&](ae::handle& hh) {
                                 got += hh.rbuf().view();
                                 hh.rbuf().consume(hh.rbuf().size());
                               }});
  REQUIRE(write_all(p.b.get(), "one"));
  REQUIRE(run_until([&] { return got == "one"; }));
  h->stop_read();
  REQUIRE(write_all(p.b.get(), "two"));
  run_for(50ms);
  CHECK(got == "one");
  CHECK(unread_bytes(h->fd()) == 3);  // left in the kernel
  h->start_read();
  REQUIRE(run_until([&] { return got == "onetwo"; }));
}

TEST_CASE("handle/stop_read/new_request_restarts") {
  auto p = make_socketpair();
  std::vector<std::string> got;
  auto h = ae::handle::create({.fd = std::move(p.a)});
  h->push_read(ae::chunk(2), [&](ae::handle&, std::string_view d) { got.emplace_back(d); });
  h->stop_read();
  REQUIRE(write_all(p.b.get(), "abcd"));
  run_for(50ms);
  CHECK(got.empty());
  h->push_read(ae::chunk(2), [&](ae::handle&, std::string_view d) { got.emplace_back(d); });
  REQUIRE(run_until([&] { return got.size() == 2; }));
  CHECK(got == std::vector<std::string>{"ab", "cd"});
}

TEST_CASE("handle/stop_read/eof_not_seen_while_stopped") {
  auto p = make_socketpair();
  recorder rec;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error(),
                               .on_read = [](ae::handle& hh) { hh.rbuf().consume(hh.rbuf().size()); },
                               .on_eof = rec.on_eof()});
  h->stop_read();
  p.b.reset();
  run_for(50ms);
  CHECK(rec.eofs == 0);
  h->start_read();
  REQUIRE(run_until([&] { return rec.eofs == 1; }));
  CHECK(rec.errors.empty());
}
