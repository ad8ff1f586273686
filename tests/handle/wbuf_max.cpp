// wbuf_max: a fatal ENOSPC when more than wbuf_max bytes wait for the kernel ("strictly
// exceeds", as AnyEvent says); at the limit all is well.
#include "support.hpp"

using namespace handle_test;

TEST_CASE("handle/wbuf_max/exceeded_is_fatal_enospc") {
  auto p = make_socketpair();
  recorder rec;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error(), .wbuf_max = 1000, .linger = 0s});
  h->push_write(pattern(4 * 1024 * 1024, 8));  // the peer reads nothing: most of it stays
  REQUIRE(run_until([&] { return !rec.errors.empty(); }));
  REQUIRE(rec.errors.size() == 1);
  CHECK(rec.errors[0].fatal);
  CHECK(rec.errors[0].ec == std::errc::no_space_on_device);
  CHECK(h->destroyed());
  REQUIRE(run_until([&] { return peer_sees_eof(p.b.get()); }));
}

TEST_CASE("handle/wbuf_max/at_the_limit") {
  auto p = make_socketpair();
  recorder rec;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error(), .linger = 0s});
  // Fill the kernel: the peer reads nothing, so whatever it did not take stays queued.
  std::string sent = pattern(4 * 1024 * 1024, 9);
  h->push_write(sent);
  const std::size_t queued = h->wbuf_size();
  REQUIRE(queued > 0);
  h->wbuf_max(queued + 10);
  h->push_write("0123456789");  // exactly at the limit
  sent += "0123456789";
  run_for(20ms);
  CHECK(h->wbuf_size() == queued + 10);
  CHECK(rec.errors.empty());
  CHECK_FALSE(h->destroyed());
  h->push_write("!");  // one byte over
  REQUIRE(run_until([&] { return !rec.errors.empty(); }));
  REQUIRE(rec.errors.size() == 1);
  CHECK(rec.errors[0].fatal);
  CHECK(rec.errors[0].ec == std::errc::no_space_on_device);
  CHECK(h->destroyed());
}

TEST_CASE("handle/wbuf_max/many_small_writes_to_a_slow_reader") {
  // AnyEvent's own example: a chat server whose client does not read. Each message is small;
  // together they pass the limit, and that must be caught.
  auto p = make_socketpair();
  recorder rec;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error(), .wbuf_max = 100 * 1024, .linger = 0s});
  const std::string msg = pattern(1024, 24);
  int pushed = 0;
  while (!h->destroyed() && pushed < 2000) {
    h->push_write(msg);
    ++pushed;
  }
  run_for(20ms);
  INFO("pushed " << pushed << " KiB, wbuf_size " << h->wbuf_size());
  REQUIRE(rec.errors.size() == 1);
  CHECK(rec.errors[0].fatal);
  CHECK(rec.errors[0].ec == std::errc::no_space_on_device);
  CHECK(h->destroyed());
}

TEST_CASE("handle/wbuf_max/below_the_limit_everything_arrives") {
  auto p = make_socketpair();
  recorder rec;
  const std::string data = pattern(1024 * 1024, 10);
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error(), .wbuf_max = data.size()});
  h->push_write(data);
  sink s(p.b.get());
  REQUIRE(run_until([&] { return s.data.size() >= data.size(); }));
  CHECK(s.data == data);
  CHECK(rec.errors.empty());
}
