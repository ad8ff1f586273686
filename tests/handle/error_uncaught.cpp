// An error with no on_error set: the handle is destroyed and an ae::error carrying the errno
// is thrown out of the loop's run_once() (AnyEvent croaks) — for fatal and non-fatal errors
// alike. The loop stays usable.
#include "support.hpp"

#include <optional>

using namespace handle_test;

namespace {
/// Runs the default loop until an ae::error comes out of run_once() (or patience runs out).
std::optional<ae::error> run_until_thrown() {
  auto& l = ae::default_loop();
  l.now_update();
  bool expired = false;
  ae::timer t(patience, [&] { expired = true; });
  while (!expired) {
    try {
      l.run_once();
    } catch (const ae::error& e) {
      return e;
    }
  }
  return std::nullopt;
}
}  // namespace

TEST_CASE("handle/error_uncaught/fatal_epipe") {
  auto p = make_socketpair();
  int chunks = 0;
  auto h = ae::handle::create({.fd = std::move(p.a)});
  h->push_read(ae::chunk(10), [&](ae::handle&, std::string_view) { ++chunks; });
  REQUIRE(write_all(p.b.get(), "abc"));
  p.b.reset();
  const auto e = run_until_thrown();
  REQUIRE(e.has_value());
  CHECK(e->code() == std::errc::broken_pipe);
  // Says what to do, and the reason once.
  CHECK(std::string(e->what()) == "ae::handle: uncaught error (set on_error to handle it): Broken pipe");
  CHECK(h->destroyed());
  CHECK(h->fd() == -1);
  CHECK(chunks == 0);
  // The loop goes on.
  int ticks = 0;
  ae::timer t(1ms, [&] { ++ticks; });
  CHECK(run_until([&] { return ticks == 1; }));
}

TEST_CASE("handle/error_uncaught/non_fatal_ebadmsg") {
  auto p = make_socketpair();
  auto h = ae::handle::create({.fd = std::move(p.a)});
  h->push_read(ae::netstring(), [](ae::handle&, std::string_view) {});
  REQUIRE(write_all(p.b.get(), "x:"));
  const auto e = run_until_thrown();
  REQUIRE(e.has_value());
  CHECK(e->code() == std::errc::bad_message);
  CHECK(h->destroyed());
  REQUIRE(run_until([&] { return peer_sees_eof(p.b.get()); }));
}

TEST_CASE("handle/error_uncaught/from_a_direct_call") {
  // h.error() outside any callback, without on_error: thrown right there.
  auto p = make_socketpair();
  auto h = ae::handle::create({.fd = std::move(p.a)});
  try {
    h->error(std::errc::protocol_error, false, "custom");
    FAIL("no exception");
  } catch (const ae::error& e) {
    CHECK(e.code() == std::errc::protocol_error);
    CHECK(std::string(e.what()).find("custom") != std::string::npos);
  }
  CHECK(h->destroyed());
}

TEST_CASE("handle/error_uncaught/eof_without_on_eof") {
  auto p = make_socketpair();
  auto h = ae::handle::create({.fd = std::move(p.a), .on_read = [](ae::handle& hh) { hh.rbuf().consume(99); }});
  p.b.reset();
  const auto e = run_until_thrown();
  REQUIRE(e.has_value());
  CHECK(e->code().value() == 0);
  CHECK(h->destroyed());
}
