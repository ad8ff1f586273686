// Bad arguments are refused at once, with the documented error, and leave nothing behind
// (no watcher, no descriptor, no hang).
#include "support.hpp"

#include <cmath>
#include <csignal>
#include <limits>

using namespace core_test;

namespace {
template <class F>
void check_errc(F&& f, ae::errc want) {
  try {
    f();
    FAIL_CHECK("no exception");
  } catch (const ae::error& e) {
    CHECK(e.code() == want);
    CHECK(std::string(e.what()).size() > 0);
  }
}
}  // namespace

TEST_CASE("invalid/duration") {
  auto l = ae::loop::create();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  using dsec = std::chrono::duration<double>;
  auto noop = [] {};
  check_errc([&] { ae::timer t(-1s, noop, l); }, ae::errc::invalid_duration);
  check_errc([&] { ae::timer t(-1ns, noop, l); }, ae::errc::invalid_duration);
  check_errc([&] { ae::timer t(dsec(nan), noop, l); }, ae::errc::invalid_duration);
  check_errc([&] { ae::timer t(dsec(inf), noop, l); }, ae::errc::invalid_duration);
  check_errc([&] { ae::timer t(dsec(-inf), noop, l); }, ae::errc::invalid_duration);
  check_errc([&] { ae::timer t(dsec(-0.5), noop, l); }, ae::errc::invalid_duration);
  check_errc([&] { ae::timer t(0s, -1ms, noop, l); }, ae::errc::invalid_duration);
  check_errc([&] { ae::timer t(0s, dsec(nan), noop, l); }, ae::errc::invalid_duration);
  check_errc([&] { ae::timer t(0s, dsec(inf), noop, l); }, ae::errc::invalid_duration);
  check_errc([&] { ae::timer t(dsec(nan), 1s, noop, l); }, ae::errc::invalid_duration);
  // Nothing was left running: run() returns at once.
  watchdog dog(l);
  l.run();
  CHECK_FALSE(dog.fired());
}

TEST_CASE("invalid/io_fd") {
  auto l = ae::loop::create();
  auto noop = [] {};
  auto expect_ebadf = [&](int n) {
    CAPTURE(n);
    try {
      ae::io w(n, ae::poll::read, noop, l);
      FAIL_CHECK("no exception");
    } catch (const std::system_error& e) {
      CHECK(e.code().value() == EBADF);
    }
  };
  expect_ebadf(-1);
  int closed;
  {
    auto p = make_pipe();
    closed = p.r.get();
  }
  expect_ebadf(closed);
  expect_ebadf(100'000);  // above any open descriptor
  expect_ebadf(-65);      // negative fds below the first chunk of the fd table, too
  expect_ebadf(std::numeric_limits<int>::min());
  // The failed starts left nothing registered: that number works once it is a real fd.
  auto p = make_pipe();
  REQUIRE(p.r.get() == closed);
  int calls = 0;
  ae::io w(p.r.get(), ae::poll::read, [&] { ++calls; }, l);
  REQUIRE(put_byte(p.w.get()));
  CHECK(run_until(l, [&] { return calls > 0; }));
  w.stop();
  // A far fd number whose part of the fd table no watcher used yet (the table reaches past
  // it since 100'000 was tried): watched, re-armed, and told apart from the near fd.
  const int far = ::fcntl(p.r.get(), F_DUPFD_CLOEXEC, 5000);
  REQUIRE(far >= 5000);
  int near_calls = 0, far_calls = 0;
  ae::io near_w(p.r.get(), ae::poll::read, [&] { ++near_calls; }, l);
  ae::io far_w(far, ae::poll::read, [&] { ++far_calls; }, l);
  far_w = ae::io(far, ae::poll::read, [&] { far_calls += 10; }, l);
  CHECK(run_until(l, [&] { return near_calls > 0 && far_calls >= 10; }));
  CHECK(far_calls % 10 == 0);  // only the re-armed far watcher ran
  far_w.stop();
  const int before = near_calls;  // one more iteration lowers far's registration before it is closed
  CHECK(run_until(l, [&] { return near_calls > before; }));
  near_w.stop();
  ::close(far);
  watchdog dog(l);
  l.run();
  CHECK_FALSE(dog.fired());
}

TEST_CASE("invalid/io_fd_closed_beside_a_live_watcher") {
  // A failed start on a closed fd must not disturb another fd's watcher.
  auto l = ae::loop::create();
  auto live = make_pipe();
  int calls = 0;
  ae::io keep(live.r.get(), ae::poll::read, [&] { ++calls; }, l);
  int closed;
  {
    auto p = make_pipe();
    closed = p.r.get();
  }
  CHECK_THROWS_AS(ae::io(closed, ae::poll::write, [] {}, l), std::system_error);
  REQUIRE(put_byte(live.w.get()));
  CHECK(run_until(l, [&] { return calls > 0; }));
}

TEST_CASE("invalid/signal") {
  auto l = ae::loop::create();
  auto noop = [] {};
  check_errc([&] { ae::signal s(0, noop, l); }, ae::errc::invalid_signal);
  check_errc([&] { ae::signal s(-1, noop, l); }, ae::errc::invalid_signal);
  check_errc([&] { ae::signal s(65, noop, l); }, ae::errc::invalid_signal);
  check_errc([&] { ae::signal s(1000, noop, l); }, ae::errc::invalid_signal);
  check_errc([&] { ae::signal s(SIGKILL, noop, l); }, ae::errc::invalid_signal);
  check_errc([&] { ae::signal s(SIGSTOP, noop, l); }, ae::errc::invalid_signal);
  watchdog dog(l);
  l.run();
  CHECK_FALSE(dog.fired());
}

TEST_CASE("invalid/backend_name") {
  try {
    auto l = ae::loop::create("nonesuch");
    FAIL_CHECK("loop::create accepted an unknown backend");
  } catch (const ae::error& e) {
    const std::string what = e.what();
    CHECK(what.find("nonesuch") != std::string::npos);
    CHECK(what.find("poll") != std::string::npos);  // names the available backends
    CHECK(e.code() == ae::errc::unknown_backend);
  }
}

TEST_CASE("invalid/backend_list_with_no_known_name") {
  CHECK_THROWS_AS(ae::loop::create("nonesuch,alsonot"), ae::error);
}
