// DESIGN §2: destroying or stop()ping a watcher cancels it, also from inside its own
// callback; creating watchers is allowed in any callback.
#include "support.hpp"

#include <csignal>
#include <optional>

using namespace core_test;

namespace {

/// Iterations that would dispatch the watcher again if it were still there.
void spin(ae::loop& l, int n = 5) {
  ae::timer keep(0s, 1ms, [] {}, l);
  for (int i = 0; i < n; ++i) l.run_once();
}

// For the captures test: plain globals, so the callback body touches nothing in its closure.
bool g_capture_alive = false;
bool g_seen_alive_after_reset = false;
std::optional<ae::io> g_io;
std::optional<ae::timer> g_timer;

struct sentinel {
  bool live = true;
  sentinel() = default;
  sentinel(sentinel&& o) noexcept : live(std::exchange(o.live, false)) {}
  ~sentinel() {
    if (live) g_capture_alive = false;
  }
};

}  // namespace

TEST_CASE("watcher/stop_self/io") {
  auto l = ae::loop::create();
  auto p = make_pipe();
  REQUIRE(put_byte(p.w.get()));  // stays readable
  int calls = 0;
  ae::io w;
  w = ae::io(p.r.get(), ae::poll::read, [&] {
    ++calls;
    w.stop();
  }, l);
  REQUIRE(run_until(l, [&] { return calls > 0; }));
  CHECK_FALSE(w.active());
  spin(l);
  CHECK(calls == 1);
}

TEST_CASE("watcher/destroy_self/io") {
  auto l = ae::loop::create();
  auto p = make_pipe();
  REQUIRE(put_byte(p.w.get()));
  int calls = 0;
  std::optional<ae::io> w;
  w.emplace(p.r.get(), ae::poll::read, [&] {
    ++calls;
    w.reset();
  }, l);
  REQUIRE(run_until(l, [&] { return calls > 0; }));
  spin(l);
  CHECK(calls == 1);
}

TEST_CASE("watcher/destroy_self/io_rearm_in_callback") {
  // Replace the watcher by a new one on the same fd from inside its callback (a re-arm).
  auto l = ae::loop::create();
  auto p = make_pipe();
  REQUIRE(put_byte(p.w.get()));
  int calls = 0;
  ae::io w;
  std::function<void()> arm = [&] {
    w = ae::io(p.r.get(), ae::poll::read, [&] {
      ++calls;
      if (calls < 5) arm();
      else w.stop();
    }, l);
  };
  arm();
  REQUIRE(run_until(l, [&] { return calls >= 5; }));
  spin(l);
  CHECK(calls == 5);
}

TEST_CASE("watcher/stop_self/interval_timer") {
  auto l = ae::loop::create();
  int calls = 0;
  ae::timer t;
  t = ae::timer(0s, 1ms, [&] {
    if (++calls == 3) t.stop();
  }, l);
  REQUIRE(run_until(l, [&] { return calls >= 3; }));
  CHECK_FALSE(t.active());
  spin(l, 10);
  CHECK(calls == 3);
}

TEST_CASE("watcher/destroy_self/interval_timer") {
  auto l = ae::loop::create();
  int calls = 0;
  std::optional<ae::timer> t;
  t.emplace(0s, 1ms, [&] {
    if (++calls == 3) t.reset();
  }, l);
  REQUIRE(run_until(l, [&] { return calls >= 3; }));
  spin(l, 10);
  CHECK(calls == 3);
}

TEST_CASE("watcher/destroy_self/one_shot_timer_after_firing") {
  auto l = ae::loop::create();
  int calls = 0;
  std::optional<ae::timer> t;
  t.emplace(0s, [&] {
    ++calls;
    CHECK_FALSE(t->active());  // a one-shot timer is inactive once it fired
    t.reset();
  }, l);
  REQUIRE(run_until(l, [&] { return calls > 0; }));
  spin(l);
  CHECK(calls == 1);
}

TEST_CASE("watcher/destroy_self/idle") {
  auto l = ae::loop::create();
  int calls = 0;
  std::optional<ae::idle> i;
  i.emplace([&] {
    if (++calls == 3) i.reset();
  }, l);
  REQUIRE(run_until(l, [&] { return calls >= 3; }));
  spin(l);
  CHECK(calls == 3);
}

TEST_CASE("watcher/stop_self/idle") {
  auto l = ae::loop::create();
  int calls = 0;
  ae::idle i;
  i = ae::idle([&] {
    ++calls;
    i.stop();
  }, l);
  REQUIRE(run_until(l, [&] { return calls > 0; }));
  spin(l);
  CHECK(calls == 1);
}

TEST_CASE("watcher/destroy_self/async") {
  auto l = ae::loop::create();
  int calls = 0;
  std::optional<ae::async> a;
  a.emplace([&] {
    ++calls;
    a.reset();
  }, l);
  a->send();
  REQUIRE(run_until(l, [&] { return calls > 0; }));
  spin(l);
  CHECK(calls == 1);
}

TEST_CASE("watcher/destroy_self/signal") {
  auto l = ae::loop::create();
  int calls = 0;
  std::optional<ae::signal> s;
  std::optional<ae::signal> keep;  // keeps SIGUSR1 caught while the raise below is pending
  keep.emplace(SIGUSR1, [] {}, l);
  s.emplace(SIGUSR1, [&] {
    ++calls;
    s.reset();
  }, l);
  ::kill(::getpid(), SIGUSR1);
  REQUIRE(run_until(l, [&] { return calls > 0; }));
  ::kill(::getpid(), SIGUSR1);
  spin(l);
  CHECK(calls == 1);
}

TEST_CASE("watcher/destroy_self/keeps_callback_alive_until_it_returns") {
  // A callback that destroys its own watcher may go on using what it captured (a
  // shared_ptr to its connection, say): the callable must not be destroyed under its feet.
  auto l = ae::loop::create();
  auto p = make_pipe();
  REQUIRE(put_byte(p.w.get()));

  SUBCASE("io") {
    g_capture_alive = true;
    g_seen_alive_after_reset = false;
    g_io.emplace(p.r.get(), ae::poll::read, [s = sentinel()] {
      g_io.reset();
      g_seen_alive_after_reset = g_capture_alive;
    }, l);
    REQUIRE(run_until(l, [&] { return !g_io; }));
    CHECK(g_seen_alive_after_reset);
    spin(l);
    CHECK_FALSE(g_capture_alive);  // and it is destroyed once the callback returned
  }
  SUBCASE("timer") {
    g_capture_alive = true;
    g_seen_alive_after_reset = false;
    g_timer.emplace(0s, 1ms, [s = sentinel()] {
      g_timer.reset();
      g_seen_alive_after_reset = g_capture_alive;
    }, l);
    REQUIRE(run_until(l, [&] { return !g_timer; }));
    CHECK(g_seen_alive_after_reset);
    spin(l);
    CHECK_FALSE(g_capture_alive);
  }
  g_io.reset();
  g_timer.reset();
}
