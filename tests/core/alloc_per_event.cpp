// DESIGN §7: 0 allocations per dispatched event and per timer fire, at most 1 per watcher
// start, once warm. Counted with the replaced operator new of alloc_counter.cpp (malloc calls
// inside a foreign loop library are not seen).
#include "support.hpp"

using namespace core_test;

TEST_CASE("alloc/none_per_io_dispatch") {
  auto l = ae::loop::create();
  auto p = make_pipe();
  REQUIRE(put_byte(p.w.get()));  // never drained: ready in every iteration
  long calls = 0;
  ae::io w(p.r.get(), ae::poll::read, [&] { ++calls; }, l);
  bool expired = false;
  l.now_update();
  ae::timer safety(patience, [&] { expired = true; }, l);

  for (int i = 0; i < 100 && !expired; ++i) l.run_once();  // warm-up
  const long before = allocation_count();
  for (int i = 0; i < 10'000 && !expired; ++i) l.run_once();
  const long allocated = allocation_count() - before;

  REQUIRE_FALSE(expired);
  CHECK(calls == 10'100);
  CHECK(allocated == 0);
}

TEST_CASE("alloc/none_per_timer_fire") {
  auto l = ae::loop::create();
  long calls = 0;
  // A 1 ns interval is due again in every iteration, so each run_once fires it once.
  ae::timer t(0s, std::chrono::nanoseconds(1), [&] { ++calls; }, l);
  bool expired = false;
  ae::timer safety(patience, [&] { expired = true; }, l);

  while (calls < 100 && !expired) l.run_once();
  const long before = allocation_count();
  const long start_calls = calls;
  while (calls < start_calls + 1000 && !expired) l.run_once();
  const long allocated = allocation_count() - before;

  REQUIRE_FALSE(expired);
  CHECK(allocated == 0);
}

TEST_CASE("alloc/none_per_async_wakeup") {
  auto l = ae::loop::create();
  long calls = 0;
  ae::async a([&] { ++calls; }, l);
  bool expired = false;
  ae::timer safety(patience, [&] { expired = true; }, l);
  for (int i = 0; i < 100 && !expired; ++i) {
    a.send();
    l.run_once();
  }
  const long before = allocation_count();
  for (int i = 0; i < 1000 && !expired; ++i) {
    a.send();
    l.run_once();
  }
  const long allocated = allocation_count() - before;
  REQUIRE_FALSE(expired);
  CHECK(calls == 1100);
  CHECK(allocated == 0);
}

TEST_CASE("alloc/at_most_one_per_watcher_start") {
  auto l = ae::loop::create();
  auto p = make_pipe();
  auto noop = [] {};

  SUBCASE("io") {
    for (int i = 0; i < 100; ++i) ae::io w(p.r.get(), ae::poll::read, noop, l);
    l.run_nowait();
    const long before = allocation_count();
    for (int i = 0; i < 1000; ++i) ae::io w(p.r.get(), ae::poll::read, noop, l);
    CHECK(allocation_count() - before <= 1000);
  }
  SUBCASE("io_with_sibling_on_the_fd") {
    ae::io keep(p.r.get(), ae::poll::read, noop, l);
    for (int i = 0; i < 100; ++i) ae::io w(p.r.get(), ae::poll::read, noop, l);
    const long before = allocation_count();
    for (int i = 0; i < 1000; ++i) ae::io w(p.r.get(), ae::poll::read, noop, l);
    CHECK(allocation_count() - before <= 1000);
  }
  SUBCASE("timer") {
    for (int i = 0; i < 100; ++i) ae::timer t(1s, noop, l);
    const long before = allocation_count();
    for (int i = 0; i < 1000; ++i) ae::timer t(1s, noop, l);
    CHECK(allocation_count() - before <= 1000);
  }
  SUBCASE("idle") {
    for (int i = 0; i < 100; ++i) ae::idle w(noop, l);
    const long before = allocation_count();
    for (int i = 0; i < 1000; ++i) ae::idle w(noop, l);
    CHECK(allocation_count() - before <= 1000);
  }
  l.run_nowait();
}
