// ae/timer.hpp: the callable is built in place in the timer's block after the timer is
// started; if copying it throws, the start is undone: the exception reaches the caller, the
// loop holds nothing of it (run() returns at once), and other timers are untouched.
#include "callables.hpp"
#include "support.hpp"

#include <stdexcept>

using namespace core_test;

TEST_CASE("timer/construct_throws/start_is_undone") {
  auto l = ae::loop::create();
  int calls = 0, other = 0;
  ae::timer keep(0ms, [&] { ++other; }, l);
  copy_throws cb(&calls);
  big_copy_throws big(&calls);
  for (int i = 0; i < 3; ++i) {
    CHECK_THROWS_AS(ae::timer(0ms, cb, l), std::runtime_error);
    CHECK_THROWS_AS(ae::timer(0ms, 5ms, cb, l), std::runtime_error);
    CHECK_THROWS_AS(ae::timer(0ms, big, l), std::runtime_error);
  }
  REQUIRE(run_until(l, [&] { return other == 1; }));
  l.run();  // nothing is left alive: returns at once
  CHECK(calls == 0);
  // A failed start left the pools and the heap usable.
  copy_throws ok(&calls);
  ok.armed = false;
  ae::timer t(0ms, ok, l);
  REQUIRE(run_until(l, [&] { return calls == 1; }));
}
