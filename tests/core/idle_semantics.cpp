// ae/idle.hpp: called once per iteration in which the loop has nothing else to do; while
// one is active the loop never blocks; real on every backend.
#include "support.hpp"

#include <optional>

using namespace core_test;

TEST_CASE("idle/runs_when_nothing_else_to_do") {
  auto l = ae::loop::create();
  int calls = 0;
  std::optional<ae::idle> i;
  i.emplace([&] {
    if (++calls == 10) i.reset();
  }, l);
  watchdog dog(l);
  l.run();  // nothing but the idle watcher: it runs, and run() returns once it is gone
  CHECK_FALSE(dog.fired());
  CHECK(calls == 10);
}

TEST_CASE("idle/not_while_io_is_pending") {
  auto l = ae::loop::create();
  auto p = make_pipe();
  REQUIRE(put_byte(p.w.get()));  // never drained: something to do in every iteration
  int io_calls = 0, idle_calls = 0;
  std::optional<ae::io> w;
  w.emplace(p.r.get(), ae::poll::read, [&] { ++io_calls; }, l);
  ae::idle i([&] { ++idle_calls; }, l);
  for (int n = 0; n < 50; ++n) l.run_once();
  CHECK(io_calls == 50);
  CHECK(idle_calls == 0);
  w.reset();
  REQUIRE(run_until(l, [&] { return idle_calls > 0; }));
}

TEST_CASE("idle/does_not_starve_a_timer") {
  auto l = ae::loop::create();
  int idle_calls = 0, timer_calls = 0;
  ae::idle i([&] { ++idle_calls; }, l);
  ae::timer t(20ms, [&] { ++timer_calls; }, l);
  REQUIRE(run_until(l, [&] { return timer_calls > 0; }));
  CHECK(idle_calls > 0);
}

TEST_CASE("idle/does_not_starve_io_or_async") {
  auto l = ae::loop::create();
  auto p = make_pipe();
  int idle_calls = 0, io_calls = 0, async_calls = 0;
  ae::idle i([&] { ++idle_calls; }, l);
  ae::io w(p.r.get(), ae::poll::read, [&] {
    ++io_calls;
    drain(p.r.get());
  }, l);
  ae::async a([&] { ++async_calls; }, l);
  REQUIRE(run_until(l, [&] { return idle_calls > 0; }));
  REQUIRE(put_byte(p.w.get()));
  REQUIRE(run_until(l, [&] { return io_calls > 0; }));
  a.send();
  REQUIRE(run_until(l, [&] { return async_calls > 0; }));
}

TEST_CASE("idle/stops_when_destroyed") {
  auto l = ae::loop::create();
  int calls = 0, ticks = 0;
  std::optional<ae::idle> i;
  i.emplace([&] { ++calls; }, l);
  REQUIRE(run_until(l, [&] { return calls >= 3; }));
  i.reset();
  const int at_reset = calls;
  ae::timer t(0s, 1ms, [&] { ++ticks; }, l);
  REQUIRE(run_until(l, [&] { return ticks >= 5; }));
  CHECK(calls == at_reset);
}

TEST_CASE("idle/two_watchers_both_called") {
  auto l = ae::loop::create();
  int a = 0, b = 0;
  ae::idle ia([&] { ++a; }, l);
  ae::idle ib([&] { ++b; }, l);
  REQUIRE(run_until(l, [&] { return a >= 3 && b >= 3; }));
}
