// ae::timer(0s, …) runs in the next iteration: never inside the call that creates it, and,
// when created by a callback, not in the iteration that runs that callback.
#include "support.hpp"

#include <optional>

using namespace core_test;

TEST_CASE("timer/zero_delay/next_iteration_from_outside") {
  auto l = ae::loop::create();
  int calls = 0;
  ae::timer t(0s, [&] { ++calls; }, l);
  CHECK(calls == 0);
  l.run_nowait();
  CHECK(calls == 1);
}

TEST_CASE("timer/zero_delay/next_iteration_from_a_timer_callback") {
  auto l = ae::loop::create();
  int outer = 0, inner = 0;
  ae::timer t2;
  ae::timer t1(0s, [&] {
    ++outer;
    t2 = ae::timer(0s, [&] { ++inner; }, l);
  }, l);
  l.run_nowait();
  REQUIRE(outer == 1);
  CHECK(inner == 0);
  l.run_nowait();
  CHECK(inner == 1);
}

TEST_CASE("timer/zero_delay/next_iteration_from_an_io_callback") {
  auto l = ae::loop::create();
  auto p = make_pipe();
  REQUIRE(put_byte(p.w.get()));
  int io_calls = 0, inner = 0;
  ae::timer t;
  std::optional<ae::io> w;
  w.emplace(p.r.get(), ae::poll::read, [&] {
    ++io_calls;
    t = ae::timer(0s, [&] { ++inner; }, l);
    w.reset();
  }, l);
  REQUIRE(run_until(l, [&] { return io_calls > 0; }));
  CHECK(inner == 0);
  l.run_nowait();
  CHECK(inner == 1);
}

TEST_CASE("timer/zero_delay/rearming_itself_does_not_spin_within_an_iteration") {
  // A 0 s timer that re-creates itself runs once per iteration, never in a tight loop
  // inside one.
  auto l = ae::loop::create();
  int calls = 0;
  ae::timer t;
  std::function<void()> arm = [&] { t = ae::timer(0s, [&] { ++calls; arm(); }, l); };
  arm();
  for (int i = 1; i <= 5; ++i) {
    l.run_nowait();
    CHECK(calls == i);
  }
  t.stop();
}
