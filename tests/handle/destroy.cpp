// destroy(): no callback of the handle runs again, the descriptor is closed, later calls are
// ignored, a second destroy() does nothing. Dropping the last shared_ptr from inside one of
// the handle's own callbacks is safe (this file is meant to run under ASan too).
#include "support.hpp"

using namespace handle_test;

TEST_CASE("handle/destroy/from_a_read_callback_stops_everything") {
  auto p = make_socketpair();
  recorder rec;
  int first = 0, second = 0, reads = 0, timeouts = 0;
  int timeouts_then = -1, drains_then = -1;
  auto count_timeout = [&](ae::handle&) { ++timeouts; };
  auto h = ae::handle::create({.fd = std::move(p.a),
                               .on_error = rec.on_error(),
                               .on_read = [&](ae::handle&) { ++reads; },
                               .on_eof = rec.on_eof(),
                               .on_drain = rec.on_drain(),
                               .timeout = 40ms,
                               .rtimeout = 40ms,
                               .wtimeout = 40ms,
                               .on_timeout = count_timeout,
                               .on_rtimeout = count_timeout,
                               .on_wtimeout = count_timeout});
  const int fd = h->fd();
  REQUIRE(fd >= 0);
  h->push_read(ae::chunk(1), [&](ae::handle& hh, std::string_view) {
    ++first;
    timeouts_then = timeouts;  // (the 40 ms timeouts may have run before the data came)
    drains_then = rec.drains;
    hh.destroy();
    CHECK(hh.destroyed());
  });
  h->push_read(ae::chunk(1), [&](ae::handle&, std::string_view) { ++second; });
  REQUIRE(write_all(p.b.get(), "ab"));
  REQUIRE(run_until([&] { return first > 0; }));
  CHECK_FALSE(fd_open(fd));  // closed at once (nothing was left to write)
  CHECK(h->fd() == -1);
  run_for(150ms);  // well past every timeout
  CHECK(first == 1);
  CHECK(second == 0);
  CHECK(reads == 0);
  CHECK(timeouts == timeouts_then);
  CHECK(rec.eofs == 0);
  CHECK(rec.drains == drains_then);
  CHECK(rec.errors.empty());
  CHECK(peer_sees_eof(p.b.get()));
}

TEST_CASE("handle/destroy/twice") {
  auto p = make_socketpair();
  auto h = ae::handle::create({.fd = std::move(p.a)});
  h->destroy();
  h->destroy();
  CHECK(h->destroyed());
  CHECK(h->fd() == -1);
  CHECK(peer_sees_eof(p.b.get()));
}

TEST_CASE("handle/destroy/methods_afterwards_are_ignored") {
  auto p = make_socketpair();
  recorder rec;
  int calls = 0;
  auto count = [&](ae::handle&) { ++calls; };
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error()});
  h->destroy();
  h->push_write("lost");
  h->push_write(ae::netstring("lost"));
  h->unshift_write("lost");
  h->push_read(ae::chunk(1), [&](ae::handle&, std::string_view) { ++calls; });
  h->unshift_read(ae::line(), [&](ae::handle&, std::string_view) { ++calls; });
  h->push_read([&](ae::handle&) {
    ++calls;
    return true;
  });
  h->on_read(count);
  h->on_eof(count);
  h->on_drain(count);  // an empty buffer would call it at once on a live handle
  h->on_timeout(count);
  h->timeout(1ms);
  h->rtimeout(1ms);
  h->wtimeout(1ms);
  h->timeout_reset();
  h->start_read();
  h->stop_read();
  h->push_shutdown();
  h->no_delay(true);
  h->keepalive(true);
  h->oobinline(false);
  run_for(50ms);
  CHECK(calls == 0);
  CHECK(rec.errors.empty());
  CHECK(h->fd() == -1);
  CHECK(h->destroyed());
  std::string got;
  char buf[64];
  ssize_t n;
  while ((n = ::read(p.b.get(), buf, sizeof buf)) > 0) got.append(buf, static_cast<std::size_t>(n));
  CHECK(n == 0);       // EOF
  CHECK(got.empty());  // and nothing written after destroy()
}

TEST_CASE("handle/destroy/drop_last_reference_in_a_read_callback") {
  auto p = make_socketpair();
  recorder rec;
  int first = 0, second = 0;
  std::string after;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error(), .on_eof = rec.on_eof()});
  std::weak_ptr<ae::handle> w = h;
  const std::string payload(1000, 'p');  // a capture big enough to live on the heap
  h->push_read(ae::chunk(1), [&, payload](ae::handle& hh, std::string_view d) {
    ++first;
    h.reset();  // the last reference: the handle must survive until this callback returns
    after = std::string(d) + payload.substr(0, 3) + std::string(hh.rbuf().view());
  });
  // Never satisfied: the handle is gone before more data could come. (AnyEvent's FAQ warns
  // that requests already satisfiable may still run in the same round; none is here.)
  h->push_read(ae::chunk(1), [&](ae::handle&, std::string_view) { ++second; });
  REQUIRE(write_all(p.b.get(), "x"));
  REQUIRE(run_until([&] { return first > 0; }));
  REQUIRE(run_until([&] { return w.expired(); }));
  run_for(30ms);
  CHECK(first == 1);
  CHECK(second == 0);
  CHECK(after == "xppp");
  CHECK(rec.errors.empty());
  CHECK(rec.eofs == 0);
  REQUIRE(run_until([&] { return peer_sees_eof(p.b.get()); }));
}

TEST_CASE("handle/destroy/drop_last_reference_in_on_eof_and_on_error") {
  {
    auto p = make_socketpair();
    std::shared_ptr<ae::handle> h;
    int eofs = 0;
    h = ae::handle::create({.fd = std::move(p.a),
                            .on_read = [](ae::handle& hh) { hh.rbuf().consume(hh.rbuf().size()); },
                            .on_eof = [&](ae::handle&) {
                              ++eofs;
                              h.reset();
                            }});
    std::weak_ptr<ae::handle> w = h;
    p.b.reset();
    REQUIRE(run_until([&] { return w.expired(); }));
    CHECK(eofs == 1);
  }
  {
    auto p = make_socketpair();
    std::shared_ptr<ae::handle> h;
    int errors = 0;
    h = ae::handle::create({.fd = std::move(p.a), .on_error = [&](ae::handle&, bool, std::error_code, std::string_view) {
                              ++errors;
                              h.reset();  // fatal EPIPE: the handle is destroyed after this returns
                            }});
    std::weak_ptr<ae::handle> w = h;
    h->push_read(ae::chunk(5), [](ae::handle&, std::string_view) {});
    p.b.reset();
    REQUIRE(run_until([&] { return w.expired(); }));
    run_for(20ms);
    CHECK(errors == 1);
  }
}

TEST_CASE("handle/destroy/in_on_error_for_a_non_fatal_error") {
  auto p = make_socketpair();
  int errors = 0, got = 0;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = [&](ae::handle& hh, bool fatal, std::error_code, std::string_view) {
                                 ++errors;
                                 CHECK_FALSE(fatal);
                                 hh.destroy();
                               }});
  h->push_read(ae::netstring(), [&](ae::handle&, std::string_view) { ++got; });
  h->push_read(ae::netstring(), [&](ae::handle&, std::string_view) { ++got; });
  REQUIRE(write_all(p.b.get(), "2:ab!"));
  REQUIRE(run_until([&] { return errors > 0; }));
  run_for(30ms);
  CHECK(errors == 1);
  CHECK(got == 0);
  CHECK(h->destroyed());
}

TEST_CASE("handle/destroy/releases_callbacks_breaking_cycles") {
  // Callbacks that hold their own handle: destroy() releases them, so the cycle is broken
  // and the handle goes once the program drops its reference (ASan's leak check agrees).
  auto p = make_socketpair();
  auto h = ae::handle::create({.fd = std::move(p.a)});
  std::weak_ptr<ae::handle> w = h;
  h->on_read([self = h](ae::handle&) {});
  h->on_eof([self = h](ae::handle&) {});
  h->push_read(ae::chunk(100), [self = h](ae::handle&, std::string_view) {});
  h->destroy();
  h.reset();
  CHECK(w.expired());
}

TEST_CASE("handle/destroy/fatal_error_releases_callbacks") {
  auto p = make_socketpair();
  auto h = ae::handle::create({.fd = std::move(p.a)});
  std::weak_ptr<ae::handle> w = h;
  int errors = 0;
  h->on_error([self = h, &errors](ae::handle&, bool fatal, std::error_code, std::string_view) {
    CHECK(fatal);
    ++errors;
  });
  h->push_read(ae::chunk(100), [self = h](ae::handle&, std::string_view) {});
  h.reset();  // only the cycle keeps it now
  CHECK_FALSE(w.expired());
  p.b.reset();  // EOF with a read queued: fatal EPIPE, then destroyed, cycle broken
  REQUIRE(run_until([&] { return w.expired(); }));
  CHECK(errors == 1);
}

TEST_CASE("handle/destroy/in_on_drain") {
  auto p = make_socketpair();
  int drains = 0;
  auto h = ae::handle::create({.fd = std::move(p.a)});
  const std::string data = pattern(1024 * 1024, 13);
  h->push_write(data);
  h->on_drain([&](ae::handle& hh) {
    ++drains;
    hh.destroy();  // AnyEvent's "destroy once all data is written" recipe
  });
  sink s(p.b.get());
  REQUIRE(run_until([&] { return s.eof; }));
  CHECK(drains == 1);
  CHECK(s.data == data);
  CHECK(h->destroyed());
}
