// ae/timer.hpp: timers due in the same pass are collected first and called second; one whose
// handle is stopped or destroyed by an earlier callback of that pass does not run, and its
// block (one-shot or repeating) is freed once (ASan would report a double free or a leak).
#include "support.hpp"

#include <memory>
#include <vector>

using namespace core_test;

TEST_CASE("timer/stop_queued/by_an_earlier_callback") {
  auto l = ae::loop::create();
  auto alive = std::make_shared<int>(0);
  std::vector<int> ran;
  std::vector<ae::timer> ts(6);
  // Deadlines 1..6 ms: all due together after the sleep below, called in deadline order.
  ts[0] = ae::timer(1ms, [&] {
    ran.push_back(0);
    ts[1].stop();             // one-shot, queued
    ts[2] = ae::timer();      // repeating, queued: destroyed
    ts[0] = ae::timer();      // itself, while running
  }, l);
  ts[1] = ae::timer(2ms, [&, alive] { ran.push_back(1); }, l);
  ts[2] = ae::timer(3ms, 50ms, [&, alive] { ran.push_back(2); }, l);
  ts[3] = ae::timer(4ms, [&, alive] { ran.push_back(3); ts[4].stop(); }, l);
  ts[4] = ae::timer(5ms, 50ms, [&, alive] { ran.push_back(4); }, l);
  ts[5] = ae::timer(6ms, [&, alive] { ran.push_back(5); }, l);
  CHECK(alive.use_count() == 6);
  std::this_thread::sleep_for(20ms);
  REQUIRE(run_until(l, [&] { return !ran.empty() && ran.back() == 5; }));
  CHECK(ran == std::vector<int>{0, 3, 5});
  CHECK(alive.use_count() == 3);  // ts[3] and ts[5] fired but keep their callables; ts[1] stopped: freed
  ts.clear();
  CHECK(alive.use_count() == 1);
  l.run();  // nothing alive
}
