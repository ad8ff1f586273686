// DESIGN §7's re-arm: a watcher destroyed and re-created for the same fd before the next
// wait. The built-in loops lower a registration only just before the wait (core/src/
// loop_impl.hpp note 8), the foreign ones at once; on every backend the new watcher gets the
// fd's events, the old one never runs again, and a stopped watcher's ready fd neither wakes
// the loop nor reaches anybody.
#include "support.hpp"

#include <optional>
#include <sys/socket.h>
#include <vector>

using namespace core_test;

TEST_CASE("io/rearm/between_iterations") {
  auto l = ae::loop::create();
  auto p = make_pipe();
  REQUIRE(put_byte(p.w.get()));  // stays unread: level-triggered, ready every iteration
  std::vector<int> calls(50);
  ae::io w(p.r.get(), ae::poll::read, [&] { ++calls[0]; }, l);
  for (std::size_t gen = 1; gen < calls.size(); ++gen) {
    w.stop();
    w = ae::io(p.r.get(), ae::poll::read, [&calls, gen] { ++calls[gen]; }, l);
    l.run_once();
    // Each earlier generation ran once, in its own iteration (the first never: it was
    // replaced before any), and never after it was replaced.
    for (std::size_t g = 0; g < gen; ++g)
      CHECK_MESSAGE(calls[g] == (g == 0 ? 0 : 1), "a replaced watcher ran again, generation " << g);
    CHECK(calls[gen] == 1);
  }
}

TEST_CASE("io/rearm/several_times_in_one_iteration") {
  // Many destroy + create pairs with no iteration between, on two fds, one of which ends
  // without a watcher: the survivor fires, the other fd reaches nobody.
  auto l = ae::loop::create();
  auto a = make_pipe(), b = make_pipe();
  REQUIRE(put_byte(a.w.get()));
  REQUIRE(put_byte(b.w.get()));
  int stale = 0, a_calls = 0;
  ae::io wa, wb;
  for (int i = 0; i < 100; ++i) {
    wa = ae::io(a.r.get(), ae::poll::read, [&] { ++stale; }, l);
    wb = ae::io(b.r.get(), ae::poll::read, [&] { ++stale; }, l);
    wa.stop();
    wb.stop();
  }
  wa = ae::io(a.r.get(), ae::poll::read, [&] { ++a_calls; }, l);
  REQUIRE(run_until(l, [&] { return a_calls >= 3; }));
  CHECK(stale == 0);
}

namespace {

/// A watcher whose callback destroys it and starts its successor on the same fd.
struct relay {
  ae::loop& l;
  int fd;
  int limit;
  std::optional<ae::io> w;
  std::vector<int> calls;  // per generation

  void arm() {
    const std::size_t gen = calls.size();
    calls.push_back(0);
    w.emplace(fd, ae::poll::read, [this, gen] {
      ++calls[gen];
      w.reset();  // destroys this watcher from inside its own callback
      if (static_cast<int>(calls.size()) < limit) arm();
    }, l);
  }
};

}  // namespace

TEST_CASE("io/rearm/inside_the_callback") {
  auto l = ae::loop::create();
  auto p = make_pipe();
  REQUIRE(put_byte(p.w.get()));
  relay r{l, p.r.get(), 30, {}, {}};
  r.arm();
  REQUIRE(run_until(l, [&] { return r.calls.size() == 30 && r.calls.back() == 1; }));
  for (std::size_t g = 0; g < r.calls.size(); ++g) CHECK_MESSAGE(r.calls[g] == 1, "generation " << g);
}

namespace {

/// Run `l` until a 50 ms timer fires; the number of iterations it took. A registration left
/// for a ready fd that nobody watches ends every wait at once: ~100 then. Otherwise one wait,
/// or two on a backend that finds its deadline late (libev's timers are checked against
/// ae's clock).
int iterations_to_a_timer(ae::loop& l) {
  bool fired = false;
  l.now_update();
  ae::timer t(50ms, [&] { fired = true; }, l);
  int iterations = 0;
  while (!fired && iterations < 100) {
    l.run_once();
    ++iterations;
  }
  CHECK(fired);
  return iterations;
}

}  // namespace

TEST_CASE("io/rearm/stopped_watcher_does_not_wake_the_loop") {
  // The fd is readable and its only watcher was stopped just before the wait: a registration
  // left behind would end every wait at once, with nobody to call.
  auto l = ae::loop::create();
  auto p = make_pipe();
  REQUIRE(put_byte(p.w.get()));
  int calls = 0;
  ae::io w(p.r.get(), ae::poll::read, [&] { ++calls; }, l);
  REQUIRE(run_until(l, [&] { return calls > 0; }));
  w.stop();
  CHECK(iterations_to_a_timer(l) <= 2);
  CHECK(calls == 1);
}

TEST_CASE("io/rearm/stop_after_a_re_arm_in_the_same_iteration") {
  // Destroy, create for the same events, destroy again, all before the wait: the re-creation
  // gave the fd back its registration (the built-in loops may then skip the queued
  // lowering), and the last stop must still take it away.
  auto l = ae::loop::create();
  auto p = make_pipe();
  REQUIRE(put_byte(p.w.get()));
  int calls = 0, stale = 0;
  ae::io w(p.r.get(), ae::poll::read, [&] { ++calls; }, l);
  REQUIRE(run_until(l, [&] { return calls > 0; }));
  w.stop();
  w = ae::io(p.r.get(), ae::poll::read, [&] { ++stale; }, l);
  w.stop();
  CHECK(iterations_to_a_timer(l) <= 2);
  CHECK(calls == 1);
  CHECK(stale == 0);
}

TEST_CASE("io/rearm/re_arm_for_fewer_events_lowers_the_registration") {
  // Registered for both; the new watcher wants only read. The socket is writable all along,
  // so a write registration left behind would end every wait at once.
  auto l = ae::loop::create();
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
  ae::fd a(sv[0]), b(sv[1]);
  ae::poll got{};
  ae::io w(a.get(), ae::poll::both, [&](ae::poll e) { got = e; }, l);
  REQUIRE(run_until(l, [&] { return got == ae::poll::write; }));
  int reads = 0;
  w.stop();
  w = ae::io(a.get(), ae::poll::read, [&] { ++reads; }, l);
  CHECK(iterations_to_a_timer(l) <= 2);
  CHECK(reads == 0);
  REQUIRE(put_byte(b.get()));
  REQUIRE(run_until(l, [&] { return reads > 0; }));
}

TEST_CASE("io/rearm/re_arm_then_a_second_watcher_then_stop") {
  // Destroy + create, a second watcher for the same events, the first destroyed again: one
  // watcher is left, and the registration with it.
  auto l = ae::loop::create();
  auto p = make_pipe();
  int first = 0, second = 0;
  ae::io w1(p.r.get(), ae::poll::read, [&] { ++first; }, l);
  l.run_nowait();
  w1.stop();
  w1 = ae::io(p.r.get(), ae::poll::read, [&] { ++first; }, l);
  ae::io w2(p.r.get(), ae::poll::read, [&] { ++second; }, l);
  w1.stop();
  REQUIRE(put_byte(p.w.get()));
  REQUIRE(run_until(l, [&] { return second > 0; }));
  CHECK(first == 0);
}
