// DESIGN §2: child watchers report the waitpid status; each watched child is reaped exactly
// once and none is left a zombie.
#include "support.hpp"

#include <map>
#include <vector>

using namespace core_test;

TEST_CASE("child/reap_many/each_once_with_its_status") {
  auto l = ae::loop::create();
  constexpr int n = 200;
  std::map<pid_t, int> expected;  // pid -> exit code
  std::map<pid_t, int> calls, status;
  std::vector<ae::child> watchers;
  int total = 0, wrong_pid = 0;
  for (int i = 0; i < n; ++i) {
    const pid_t pid = fork_exit(i % 256);
    expected[pid] = i % 256;
    watchers.emplace_back(pid, [&, pid](pid_t p, int st) {
      if (p != pid) ++wrong_pid;
      ++calls[p];
      status[p] = st;
      ++total;
    }, l);
  }
  const bool all = run_until(l, [&] { return total >= n; }, 60s);
  CHECK_MESSAGE(all, "only " << total << " of " << n << " children reported");
  // Some more iterations: nothing may be reported twice.
  {
    ae::timer keep(0s, 1ms, [] {}, l);
    for (int i = 0; i < 5; ++i) l.run_once();
  }
  CHECK(total == n);
  CHECK(wrong_pid == 0);
  for (auto [pid, code] : expected) {
    CAPTURE(pid);
    CHECK(calls[pid] == 1);
    CHECK(WIFEXITED(status[pid]));
    CHECK(WEXITSTATUS(status[pid]) == code);
  }
  for (auto& w : watchers) CHECK_FALSE(w.active());
  watchers.clear();

  errno = 0;
  int st;
  const pid_t left = ::waitpid(-1, &st, WNOHANG);
  CHECK(left == -1);
  CHECK(errno == ECHILD);
  // Clean up after a failure so later tests start without zombies.
  for (auto [pid, code] : expected)
    if (calls[pid] == 0) reap(pid);
}

TEST_CASE("child/reap_many/watcher_started_after_the_exit") {
  // The child is already a zombie when the watcher starts: it is still reported.
  auto l = ae::loop::create();
  const pid_t pid = fork_exit(42);
  REQUIRE(wait_exited_unreaped(pid));
  int calls = 0, status = 0;
  ae::child c(pid, [&](pid_t, int st) {
    ++calls;
    status = st;
  }, l);
  const bool ok = run_until(l, [&] { return calls > 0; });
  CHECK(ok);
  if (!ok) reap(pid);
  CHECK(WEXITSTATUS(status) == 42);
}

TEST_CASE("child/reap_many/killed_by_a_signal") {
  auto l = ae::loop::create();
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::pause();
    ::_exit(0);
  }
  int calls = 0, status = 0;
  ae::child c(pid, [&](pid_t, int st) {
    ++calls;
    status = st;
  }, l);
  ::kill(pid, SIGKILL);  // (the child inherited doctest's handlers for catchable signals)
  const bool ok = run_until(l, [&] { return calls > 0; });
  CHECK(ok);
  if (!ok) reap(pid);
  CHECK(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);
}

TEST_CASE("child/reap_many/two_watchers_of_one_pid") {
  auto l = ae::loop::create();
  const pid_t pid = fork_exit(9);
  int a = 0, b = 0, sa = 0, sb = 0;
  ae::child ca(pid, [&](pid_t, int st) { ++a; sa = st; }, l);
  ae::child cb(pid, [&](pid_t, int st) { ++b; sb = st; }, l);
  const bool ok = run_until(l, [&] { return a > 0 && b > 0; });
  CHECK(ok);
  if (a + b == 0) reap(pid);
  CHECK(a == 1);
  CHECK(b == 1);
  CHECK(WEXITSTATUS(sa) == 9);
  CHECK(WEXITSTATUS(sb) == 9);
}

TEST_CASE("child/reap_many/run_returns_when_all_reported") {
  auto l = ae::loop::create();
  std::vector<ae::child> watchers;
  int total = 0;
  std::vector<pid_t> pids;
  for (int i = 0; i < 5; ++i) {
    pids.push_back(fork_exit(i));
    watchers.emplace_back(pids.back(), [&](pid_t, int) { ++total; }, l);
  }
  {
    watchdog dog(l);
    l.run();
    CHECK_FALSE(dog.fired());
  }
  CHECK(total == 5);
  if (total != 5)
    for (pid_t p : pids) reap(p);
}
