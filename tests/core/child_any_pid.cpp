// ae/child.hpp: a watcher for pid 0 reports (and reaps) any child.
#include "support.hpp"

#include <set>

using namespace core_test;

TEST_CASE("child/any_pid/reports_a_child") {
  auto l = ae::loop::create();
  pid_t got = -1;
  int status = 0, calls = 0;
  ae::child any(0, [&](pid_t p, int st) {
    got = p;
    status = st;
    ++calls;
  }, l);
  const pid_t pid = fork_exit(7);
  const bool ok = run_until(l, [&] { return calls > 0; });
  CHECK(ok);
  if (!ok) reap(pid);
  CHECK(got == pid);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 7);
  CHECK(any.active());  // a pid-0 watcher goes on
}

TEST_CASE("child/any_pid/reports_several_children") {
  auto l = ae::loop::create();
  std::set<pid_t> got;
  ae::child any(0, [&](pid_t p, int st) {
    CHECK(WEXITSTATUS(st) == 3);
    got.insert(p);
  }, l);
  std::set<pid_t> forked;
  for (int i = 0; i < 10; ++i) forked.insert(fork_exit(3));
  const bool ok = run_until(l, [&] { return got.size() >= forked.size(); });
  CHECK(ok);
  CHECK(got == forked);
  if (!ok)
    for (pid_t p : forked)
      if (!got.count(p)) reap(p);
  errno = 0;
  int st;
  CHECK(::waitpid(-1, &st, WNOHANG) == -1);
}

TEST_CASE("child/any_pid/child_that_exited_before_the_watcher") {
  // As AnyEvent makes one waitpid round when a child watcher starts: a zombie that was
  // already there is reported too.
  auto l = ae::loop::create();
  const pid_t pid = fork_exit(5);
  REQUIRE(wait_exited_unreaped(pid));
  pid_t got = -1;
  int status = 0;
  ae::child any(0, [&](pid_t p, int st) {
    got = p;
    status = st;
  }, l);
  const bool ok = run_until(l, [&] { return got > 0; }, 3s);
  CHECK_MESSAGE(ok, "a pid-0 watcher did not report a child that had exited before it started");
  if (!ok) reap(pid);
  CHECK(got == pid);
  CHECK(WEXITSTATUS(status) == 5);
}

TEST_CASE("child/any_pid/stopped_watcher_reports_nothing") {
  auto l = ae::loop::create();
  int calls = 0;
  { ae::child any(0, [&](pid_t, int) { ++calls; }, l); }
  const pid_t pid = fork_exit(1);
  REQUIRE(wait_exited_unreaped(pid));
  {
    ae::timer keep(0s, 1ms, [] {}, l);
    for (int i = 0; i < 5; ++i) l.run_once();
  }
  CHECK(calls == 0);
  int st = 0;
  CHECK(::waitpid(pid, &st, WNOHANG) == pid);  // still ours to reap
}
