// ae/timer.hpp: a one-shot timer fires once, never before its deadline (the loop's cached
// now() at creation plus the delay).
#include "support.hpp"

#include <thread>
#include <vector>

using namespace core_test;

TEST_CASE("timer/one_shot/fires_once_never_early") {
  auto l = ae::loop::create();
  const std::vector<ae::duration> delays = {0ms, 100us, 1ms, 1500us, 3ms, 10ms, 25ms};
  for (auto delay : delays) {
    CAPTURE(delay.count());
    l.now_update();
    const ae::time_point start = l.now();
    int calls = 0;
    ae::time_point fired_at{}, loop_now_at_fire{};
    ae::timer t(delay, [&] {
      ++calls;
      fired_at = ae::clock::now();
      loop_now_at_fire = l.now();
    }, l);
    CHECK(t.active());
    REQUIRE(run_until(l, [&] { return calls > 0; }));
    CHECK(fired_at >= start + delay);
    CHECK(loop_now_at_fire >= start + delay);
    CHECK_FALSE(t.active());
    {
      ae::timer keep(0s, 1ms, [] {}, l);
      for (int i = 0; i < 3; ++i) l.run_once();
    }
    CHECK(calls == 1);
  }
}

TEST_CASE("timer/one_shot/relative_to_the_cached_now") {
  // Created from a callback that ran late: the deadline counts from the iteration's cached
  // now(), and the timer still never fires before it.
  auto l = ae::loop::create();
  int calls = 0;
  ae::time_point start{}, fired_at{};
  ae::timer inner;
  ae::timer outer(1ms, [&] {
    std::this_thread::sleep_for(15ms);
    start = l.now();
    inner = ae::timer(10ms, [&] {
      ++calls;
      fired_at = ae::clock::now();
    }, l);
  }, l);
  REQUIRE(run_until(l, [&] { return calls > 0; }));
  CHECK(fired_at >= start + 10ms);
}

TEST_CASE("timer/one_shot/many_with_random_delays_never_early") {
  auto l = ae::loop::create();
  l.now_update();
  const ae::time_point start = l.now();
  constexpr int n = 500;
  std::vector<ae::timer> timers;
  std::vector<ae::duration> delay(n);
  int calls = 0, early = 0;
  unsigned seed = 12345;
  for (int i = 0; i < n; ++i) {
    seed = seed * 1103515245 + 12345;
    delay[i] = std::chrono::microseconds((seed >> 8) % 30'000);
    timers.emplace_back(delay[i], [&, i] {
      ++calls;
      if (ae::clock::now() < start + delay[i]) ++early;
    }, l);
  }
  REQUIRE(run_until(l, [&] { return calls >= n; }));
  CHECK(calls == n);
  CHECK(early == 0);
}

TEST_CASE("timer/one_shot/stopped_before_due_never_fires") {
  auto l = ae::loop::create();
  int calls = 0, other = 0;
  ae::timer t(5ms, [&] { ++calls; }, l);
  ae::timer later(20ms, [&] { ++other; }, l);
  t.stop();
  REQUIRE(run_until(l, [&] { return other > 0; }));
  CHECK(calls == 0);
}

TEST_CASE("timer/one_shot/huge_delay_does_not_fire") {
  auto l = ae::loop::create();
  int calls = 0, other = 0;
  ae::timer t(std::chrono::hours(24 * 365 * 1000), [&] { ++calls; }, l);
  ae::timer t2(std::chrono::duration<double>(1e300), [&] { ++calls; }, l);
  ae::timer soon(5ms, [&] { ++other; }, l);
  REQUIRE(run_until(l, [&] { return other > 0; }));
  CHECK(calls == 0);
  CHECK(t.active());
}
