// ae/loop.hpp: run() returns when no watcher is left that could wake the loop; stop() from
// a callback makes run() return; run_once/run_nowait say whether watchers remain.
#include "support.hpp"

#include <optional>

using namespace core_test;

TEST_CASE("loop/run/returns_when_no_watcher_is_left") {
  auto l = ae::loop::create();
  SUBCASE("empty loop") {
    watchdog dog(l);
    l.run();
    CHECK_FALSE(dog.fired());
  }
  SUBCASE("after a one-shot timer") {
    int calls = 0;
    ae::timer t(5ms, [&] { ++calls; }, l);
    watchdog dog(l);
    l.run();
    CHECK_FALSE(dog.fired());
    CHECK(calls == 1);
  }
  SUBCASE("after an io watcher destroys itself") {
    auto p = make_pipe();
    REQUIRE(put_byte(p.w.get()));
    std::optional<ae::io> w;
    w.emplace(p.r.get(), ae::poll::read, [&] { w.reset(); }, l);
    watchdog dog(l);
    l.run();
    CHECK_FALSE(dog.fired());
    CHECK_FALSE(w.has_value());
  }
  SUBCASE("after an interval timer stops itself") {
    int calls = 0;
    ae::timer t;
    t = ae::timer(0s, 1ms, [&] {
      if (++calls == 3) t.stop();
    }, l);
    watchdog dog(l);
    l.run();
    CHECK_FALSE(dog.fired());
    CHECK(calls == 3);
  }
  SUBCASE("after watchers stopped from outside the loop") {
    auto p = make_pipe();
    ae::io w(p.r.get(), ae::poll::read, [] {}, l);
    ae::signal s(SIGUSR1, [] {}, l);
    ae::timer t(1h, [] {}, l);
    w.stop();
    s.stop();
    t.stop();
    watchdog dog(l);
    l.run();
    CHECK_FALSE(dog.fired());
  }
}

TEST_CASE("loop/run/stop_from_a_callback") {
  auto l = ae::loop::create();
  int calls = 0;
  ae::timer t(0s, 1ms, [&] {
    ++calls;
    if (calls == 3 || calls == 6) l.stop();
  }, l);
  CHECK(run_guarded(l));
  CHECK(calls == 3);
  CHECK(t.active());
  // stop() ends that run() only: the next one goes on.
  CHECK(run_guarded(l));
  CHECK(calls == 6);
}

TEST_CASE("loop/run/stop_returns_after_the_current_callback") {
  auto l = ae::loop::create();
  int after_stop = 0;
  bool stopped = false;
  ae::timer t(0s, [&] {
    l.stop();
    stopped = true;
    ++after_stop;  // the callback itself runs to its end
  }, l);
  CHECK(run_guarded(l));
  CHECK(stopped);
  CHECK(after_stop == 1);
}

TEST_CASE("loop/run_once/reports_whether_watchers_remain") {
  auto l = ae::loop::create();
  int calls = 0;
  {
    ae::timer t(0s, [&] { ++calls; }, l);
    CHECK_FALSE(l.run_once());  // the one-shot timer fired: nothing left
    CHECK(calls == 1);
  }
  ae::timer tick(0s, 1ms, [&] { ++calls; }, l);
  CHECK(l.run_once());
  CHECK(l.run_nowait());
  tick.stop();
  CHECK_FALSE(l.run_nowait());
}

TEST_CASE("loop/now/cached_and_updated") {
  auto l = ae::loop::create();
  l.now_update();
  const auto a = l.now();
  std::this_thread::sleep_for(5ms);
  CHECK(l.now() == a);  // cached until the next iteration or now_update()
  l.now_update();
  CHECK(l.now() >= a + 5ms);
  const auto before = l.now();
  std::this_thread::sleep_for(2ms);
  l.run_nowait();
  CHECK(l.now() > before);  // refreshed by the iteration
}

TEST_CASE("loop/run_once/returns_after_an_iteration_that_only_woke_up") {
  // An iteration whose only business was a wakeup (async, post, signal) is still an
  // iteration: run_once() returns after it, instead of blocking on until some other event.
  auto l = ae::loop::create();
  bool expired = false;
  l.now_update();
  ae::timer safety(patience, [&] { expired = true; }, l);
  int calls = 0;
  SUBCASE("async") {
    ae::async a([&] { ++calls; }, l);
    a.send();
    l.run_once();
    CHECK_FALSE(expired);
    CHECK(calls == 1);
  }
  SUBCASE("post") {
    l.post([&] { ++calls; });
    l.run_once();
    CHECK_FALSE(expired);
    CHECK(calls == 1);
  }
  SUBCASE("signal") {
    ae::signal s(SIGUSR1, [&] { ++calls; }, l);
    REQUIRE(::kill(::getpid(), SIGUSR1) == 0);
    l.run_once();
    CHECK_FALSE(expired);
    CHECK(calls == 1);
  }
}
