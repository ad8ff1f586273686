// Watcher handles that outlive their loop: a class declaring its timer before its loop, a
// handle kept somewhere global. When the last loop handle goes, the loop releases what it
// holds from the system at once (its kernel polling set, pidfds, signal dispositions) and
// the handles left behind become inert: stopping or destroying them later is harmless
// (ASan checks the "harmless" part in CI).
#include "support.hpp"

#include <anyevent/async.hpp>
#include <anyevent/child.hpp>
#include <anyevent/idle.hpp>
#include <anyevent/io.hpp>
#include <anyevent/signal.hpp>
#include <anyevent/timer.hpp>

#include <csignal>
#include <filesystem>
#include <memory>
#include <optional>

using namespace core_test;

namespace {

int open_fds() {
  int n = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

bool signal_is_default(int signum) {
  struct sigaction sa {};
  ::sigaction(signum, nullptr, &sa);
  return sa.sa_handler == SIG_DFL;
}

}  // namespace

TEST_CASE("loop/watchers_outlive_their_loop") {
  REQUIRE(signal_is_default(SIGUSR2));
  const int fds_before = open_fds();
  auto p = make_pipe();
  const int fds_with_pipe = open_fds();

  // A child that stays alive until we kill it, so its pidfd (if any) is still watched.
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::pause();
    ::_exit(0);
  }

  std::optional<ae::loop> l = ae::loop::create();
  int fired = 0;
  ae::io r(p.r.get(), ae::poll::read, [&] { ++fired; }, *l);
  ae::timer once(1h, [&] { ++fired; }, *l);
  ae::timer tick(1h, 1h, [&] { ++fired; }, *l);
  ae::timer done(0s, [&] { ++fired; }, *l);
  ae::idle idle([&] { idle.stop(); }, *l);
  ae::async wake([&] { ++fired; }, *l);
  ae::signal usr2(SIGUSR2, [&] { ++fired; }, *l);
  ae::child kid(pid, [&](pid_t, int) { ++fired; }, *l);
  ae::child any(0, [&](pid_t, int) { ++fired; }, *l);
  REQUIRE(l->run_nowait());  // `done` fires, `idle` stops itself
  REQUIRE(fired == 1);
  CHECK_FALSE(done.active());
  CHECK(r.active());
  CHECK(signal_is_default(SIGUSR2) == false);

  l.reset();  // the last handle: the loop goes while nine handles still refer to it

  // What the loop held from the system is back now, not when the handles go.
  CHECK(open_fds() == fds_with_pipe);
  CHECK(signal_is_default(SIGUSR2));
  CHECK_FALSE(r.active());
  CHECK_FALSE(tick.active());
  CHECK_FALSE(kid.active());

  wake.send();  // a send to a loop that is gone does nothing
  r.stop();
  tick.stop();
  kid.stop();
  // The rest (once, done, idle, wake, usr2, any) go at the end of the scope, after the pipe.
  ::kill(pid, SIGKILL);
  reap(pid);
  p = {};
  CHECK(open_fds() == fds_before);
  CHECK(fired == 1);
}

TEST_CASE("loop/last_handle_held_by_a_callback") {
  // The only handle of a loop lives in a callback of that loop: destroying the watcher
  // destroys the callback, which releases the loop from inside the watcher's own deletion.
  ae::timer t;
  {
    auto l = ae::loop::create();
    t = ae::timer(1h, [keep = l] {}, l);
  }
  CHECK(t.active());
  t.stop();  // the loop goes here; LeakSanitizer checks that it went

  // And a loop whose last outside handle is dropped by a callback while run() is on the stack.
  auto owner = std::make_unique<ae::loop>(ae::loop::create());
  int after = 0;
  ae::timer drop(0s, [&] { owner.reset(); }, *owner);
  ae::timer later(1ms, [&] { ++after; }, *owner);
  ae::loop& running = *owner;
  running.run();  // returns when `later` fired: the loop stays alive while it runs
  CHECK(after == 1);
  CHECK(owner == nullptr);
}
