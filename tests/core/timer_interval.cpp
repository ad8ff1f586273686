// ae/timer.hpp: intervals are fixed-rate — the next deadline is the previous one plus the
// interval; when the loop was late, the next is now() + interval, with no burst of catch-up
// calls. The core keeps the timers, so this holds on every backend.
#include "support.hpp"

#include <thread>
#include <vector>

using namespace core_test;

TEST_CASE("timer/interval/fixed_rate_never_early") {
  auto l = ae::loop::create();
  l.now_update();
  const ae::time_point start = l.now();
  const ae::duration interval = 20ms;
  std::vector<ae::time_point> at;
  ae::timer t(0s, interval, [&] { at.push_back(ae::clock::now()); }, l);
  REQUIRE(run_until(l, [&] { return at.size() >= 10; }));
  for (std::size_t n = 0; n < at.size(); ++n) {
    CAPTURE(n);
    CHECK(at[n] >= start + static_cast<long>(n) * interval);
  }
  CHECK(t.active());
}

TEST_CASE("timer/interval/first_call_after_the_delay") {
  auto l = ae::loop::create();
  l.now_update();
  const ae::time_point start = l.now();
  std::vector<ae::time_point> at;
  ae::timer t(15ms, 5ms, [&] { at.push_back(ae::clock::now()); }, l);
  REQUIRE(run_until(l, [&] { return at.size() >= 4; }));
  for (std::size_t n = 0; n < at.size(); ++n) {
    CAPTURE(n);
    CHECK(at[n] >= start + 15ms + static_cast<long>(n) * 5ms);
  }
}

TEST_CASE("timer/interval/no_burst_after_a_late_loop") {
  auto l = ae::loop::create();
  const ae::duration interval = 10ms;
  std::vector<ae::time_point> at;  // the loop's now() at each call
  const std::size_t blocked_call = 2;
  ae::timer t(0s, interval, [&] {
    at.push_back(l.now());
    if (at.size() == blocked_call + 1) std::this_thread::sleep_for(12 * interval);  // ~12 missed
  }, l);
  REQUIRE(run_until(l, [&] { return at.size() >= blocked_call + 8; }));

  // The first call after the block is late; from it on the rate restarts: the j-th call
  // after it comes no sooner than j intervals later, so no catch-up calls.
  const std::size_t late = blocked_call + 1;
  int within_one_interval = 0;
  for (std::size_t j = 0; late + j < at.size(); ++j) {
    CAPTURE(j);
    CHECK(at[late + j] >= at[late] + static_cast<long>(j) * interval);
    if (at[late + j] < at[late] + interval) ++within_one_interval;
  }
  CHECK(within_one_interval == 1);  // the late call alone, no burst behind it
}

TEST_CASE("timer/interval/zero_interval_is_one_shot") {
  auto l = ae::loop::create();
  int calls = 0;
  ae::timer t(1ms, 0s, [&] { ++calls; }, l);
  REQUIRE(run_until(l, [&] { return calls > 0; }));
  {
    ae::timer keep(0s, 1ms, [] {}, l);
    for (int i = 0; i < 5; ++i) l.run_once();
  }
  CHECK(calls == 1);
  CHECK_FALSE(t.active());
}
