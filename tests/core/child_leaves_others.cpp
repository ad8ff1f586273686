// DESIGN §2: child watchers reap only the pids they watch; children that other code in the
// process forked are left alone.
#include "support.hpp"

#include <poll.h>

using namespace core_test;

TEST_CASE("child/leaves_others/exited_before_the_watcher") {
  auto l = ae::loop::create();
  const pid_t other = fork_exit(3);  // "other code's" child: nobody watches it
  REQUIRE(wait_exited_unreaped(other));
  const pid_t mine = fork_exit(4);
  int calls = 0;
  ae::child c(mine, [&](pid_t, int) { ++calls; }, l);
  const bool ok = run_until(l, [&] { return calls > 0; });
  CHECK(ok);
  if (!ok) reap(mine);
  {
    ae::timer keep(0s, 1ms, [] {}, l);
    for (int i = 0; i < 5; ++i) l.run_once();
  }
  int st = 0;
  const pid_t r = ::waitpid(other, &st, WNOHANG);
  CHECK_MESSAGE(r == other, "the other code's child was reaped behind its back");
  if (r == other) CHECK(WEXITSTATUS(st) == 3);
}

TEST_CASE("child/leaves_others/exits_while_a_watcher_waits") {
  // The other child exits (and SIGCHLD arrives) while our watcher is active and waiting.
  auto l = ae::loop::create();
  auto go = make_pipe();
  const pid_t mine = ::fork();
  REQUIRE(mine >= 0);
  if (mine == 0) {
    go.w.reset();
    pollfd pfd{go.r.get(), POLLIN, 0};
    ::poll(&pfd, 1, 20'000);  // until the parent closes its end
    ::_exit(6);
  }
  go.r.reset();
  int calls = 0, status = 0;
  ae::child c(mine, [&](pid_t, int st) {
    ++calls;
    status = st;
  }, l);
  l.run_nowait();

  const pid_t other = fork_exit(8);
  REQUIRE(wait_exited_unreaped(other));
  l.run_nowait();
  go.w.reset();  // now let ours exit
  const bool ok = run_until(l, [&] { return calls > 0; });
  CHECK(ok);
  if (!ok) reap(mine);
  CHECK(WEXITSTATUS(status) == 6);
  int st = 0;
  const pid_t r = ::waitpid(other, &st, WNOHANG);
  CHECK_MESSAGE(r == other, "the other code's child was reaped behind its back");
  if (r == other) CHECK(WEXITSTATUS(st) == 8);
}
