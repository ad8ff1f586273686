// push_shutdown: once everything queued is written the sending side is shut down, so the
// peer reads all the data and then EOF; the handle goes on reading.
#include "support.hpp"

using namespace handle_test;

TEST_CASE("handle/push_shutdown/eof_after_all_data") {
  auto p = make_socketpair();
  recorder rec;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error()});
  const std::string data = pattern(1024 * 1024, 19);
  h->push_write(data);
  h->push_write("END");
  REQUIRE(h->wbuf_size() > 0);  // still buffered when the shutdown is asked for
  h->push_shutdown();
  run_for(20ms);
  sink s(p.b.get());
  REQUIRE(run_until([&] { return s.eof; }));
  CHECK(s.error == 0);
  CHECK(s.data == data + "END");
  CHECK(rec.errors.empty());
  CHECK_FALSE(h->destroyed());
}

TEST_CASE("handle/push_shutdown/reading_goes_on") {
  auto p = make_socketpair();
  recorder rec;
  std::vector<std::string> lines;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error(), .on_eof = rec.on_eof()});
  h->push_write("request\n");
  h->push_shutdown();
  sink s(p.b.get());
  REQUIRE(run_until([&] { return s.eof; }));
  CHECK(s.data == "request\n");
  // The peer answers after it saw our EOF; we still read it.
  h->push_read(ae::line(), [&](ae::handle&, std::string_view l) { lines.emplace_back(l); });
  REQUIRE(write_all(p.b.get(), "response\n"));
  REQUIRE(run_until([&] { return !lines.empty(); }));
  CHECK(lines == std::vector<std::string>{"response"});
  h->on_read([](ae::handle& hh) { hh.rbuf().consume(hh.rbuf().size()); });
  p.b.reset();
  REQUIRE(run_until([&] { return rec.eofs > 0 || !rec.errors.empty(); }));
  CHECK(rec.eofs == 1);
  CHECK(rec.errors.empty());
}

TEST_CASE("handle/push_shutdown/empty_buffer") {
  auto p = make_socketpair();
  auto h = ae::handle::create({.fd = std::move(p.a)});
  h->push_shutdown();
  sink s(p.b.get());
  REQUIRE(run_until([&] { return s.eof; }));
  CHECK(s.data.empty());
  CHECK(s.error == 0);
  CHECK_FALSE(h->destroyed());
  CHECK(h->fd() >= 0);
}
