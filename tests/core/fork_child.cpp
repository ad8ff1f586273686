// DESIGN §2: fork_child() gives the child its own kernel polling state and never
// deregisters fds from the inherited one, which the parent still shares.
#include "support.hpp"

#include <optional>

using namespace core_test;

namespace {

/// What the child does, without doctest (it must not report into the parent's run): its
/// exit code says which step failed.
int child_main(ae::loop& l, std::optional<ae::io>& inherited, int inherited_fd) {
  ::alarm(30);  // last resort: never a hung test run
  l.fork_child();
  int rc = 0;
  bool expired = false;
  ae::timer safety(5s, [&] { expired = true; }, l);

  int ticks = 0;
  ae::timer t(2ms, [&] { ++ticks; }, l);
  auto q = make_pipe();
  int reads = 0;
  ae::io w(q.r.get(), ae::poll::read, [&] {
    ++reads;
    drain(q.r.get());
  }, l);
  if (!put_byte(q.w.get())) return 10;
  while (!expired && (ticks == 0 || reads == 0)) l.run_once();
  if (ticks != 1) rc = 11;
  else if (reads == 0) rc = 12;

  // Drop the watcher inherited from the parent, and our copy of its fd: the parent's
  // registration of that fd must survive both.
  inherited.reset();
  ::close(inherited_fd);
  l.run_nowait();
  return rc;
}

}  // namespace

TEST_CASE("fork_child/child_loop_works_parent_loop_survives") {
  auto l = ae::loop::create();
  auto p = make_pipe();
  int parent_reads = 0;
  std::optional<ae::io> w;
  w.emplace(p.r.get(), ae::poll::read, [&] {
    ++parent_reads;
    drain(p.r.get());
  }, l);
  ae::timer parent_tick(1h, [] {}, l);
  l.run_nowait();  // the registration is in the kernel before the fork

  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) ::_exit(child_main(l, w, p.r.get()));

  int status = 0;
  pid_t r;
  do r = ::waitpid(pid, &status, 0);
  while (r < 0 && errno == EINTR);
  REQUIRE(r == pid);
  CHECK(WIFEXITED(status));
  CHECK_MESSAGE(WEXITSTATUS(status) == 0, "child failed at step " << WEXITSTATUS(status));

  // The parent's loop and its pre-fork watcher still work.
  REQUIRE(put_byte(p.w.get()));
  CHECK(run_until(l, [&] { return parent_reads > 0; }));
  int fresh = 0;
  auto q = make_pipe();
  ae::io w2(q.r.get(), ae::poll::read, [&] { ++fresh; }, l);
  REQUIRE(put_byte(q.w.get()));
  CHECK(run_until(l, [&] { return fresh > 0; }));
}

TEST_CASE("fork_child/child_sees_events_on_inherited_watchers") {
  // An io watcher that existed before the fork goes on working in the child.
  auto l = ae::loop::create();
  auto p = make_pipe();
  int reads = 0;
  ae::io w(p.r.get(), ae::poll::read, [&] {
    ++reads;
    drain(p.r.get());
  }, l);
  l.run_nowait();

  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::alarm(30);
    l.fork_child();
    bool expired = false;
    ae::timer safety(5s, [&] { expired = true; }, l);
    if (!put_byte(p.w.get())) ::_exit(10);
    while (!expired && reads == 0) l.run_once();
    ::_exit(reads > 0 ? 0 : 11);
  }
  int status = 0;
  pid_t r;
  do r = ::waitpid(pid, &status, 0);
  while (r < 0 && errno == EINTR);
  REQUIRE(r == pid);
  CHECK(WIFEXITED(status));
  CHECK_MESSAGE(WEXITSTATUS(status) == 0, "child failed at step " << WEXITSTATUS(status));
  // The byte the child wrote may or may not have been read by the child; drain and go on.
  drain(p.r.get());
  REQUIRE(put_byte(p.w.get()));
  CHECK(run_until(l, [&] { return reads > 0; }));
}
