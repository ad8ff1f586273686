// ae::postpone runs the callable once, in a later iteration, never inside the call.
#include "support.hpp"

#include <optional>

using namespace core_test;

TEST_CASE("postpone/from_outside_runs_once_in_the_next_iteration") {
  auto l = ae::loop::create();
  int calls = 0;
  ae::postpone([&] { ++calls; }, l);
  CHECK(calls == 0);
  l.run_nowait();
  CHECK(calls == 1);
  l.run_nowait();
  l.run_nowait();
  CHECK(calls == 1);
}

TEST_CASE("postpone/from_a_timer_callback_runs_in_a_later_iteration") {
  auto l = ae::loop::create();
  int calls = 0, timer_calls = 0;
  ae::timer t(0s, [&] {
    ++timer_calls;
    ae::postpone([&] { ++calls; }, l);
  }, l);
  l.run_nowait();
  REQUIRE(timer_calls == 1);
  CHECK(calls == 0);
  l.run_nowait();
  CHECK(calls == 1);
  l.run_nowait();
  CHECK(calls == 1);
}

TEST_CASE("postpone/from_an_io_callback_runs_in_a_later_iteration") {
  auto l = ae::loop::create();
  auto p = make_pipe();
  REQUIRE(put_byte(p.w.get()));
  int calls = 0, io_calls = 0;
  std::optional<ae::io> w;
  w.emplace(p.r.get(), ae::poll::read, [&] {
    ++io_calls;
    w.reset();
    ae::postpone([&] { ++calls; }, l);
  }, l);
  REQUIRE(run_until(l, [&] { return io_calls > 0; }));
  CHECK(calls == 0);
  l.run_nowait();
  CHECK(calls == 1);
}

TEST_CASE("postpone/from_a_postponed_callback") {
  auto l = ae::loop::create();
  int first = 0, second = 0;
  ae::postpone([&] {
    ++first;
    ae::postpone([&] { ++second; }, l);
  }, l);
  l.run_nowait();
  CHECK(first == 1);
  CHECK(second == 0);
  l.run_nowait();
  CHECK(second == 1);
}

TEST_CASE("postpone/keeps_run_going") {
  auto l = ae::loop::create();
  int calls = 0;
  ae::postpone([&] { ++calls; }, l);
  watchdog dog(l);
  l.run();
  CHECK_FALSE(dog.fired());
  CHECK(calls == 1);
}
