// An fd number closed and reused at once must be watchable again, with no stale kernel or
// backend state of the old descriptor in the way (epoll forgets a closed fd only when its
// last duplicate closes; libuv keeps one poll handle per fd; lazy deregistration).
#include "support.hpp"

#include <optional>

using namespace core_test;

namespace {

enum class how { ae_fd, raw_close };

/// One cycle: watch a pipe, stop, close, open a new pipe that gets the same number, watch it,
/// write, and see the new watcher fire. Returns false (after checks) on failure.
bool cycle(ae::loop& l, how close_how, int i) {
  auto old = make_pipe();
  const int n = old.r.get();
  int old_calls = 0;
  {
    ae::io w(n, ae::poll::read, [&] { ++old_calls; }, l);
    // Vary the old registration's history: polled or not, ready or not.
    if (i % 2) REQUIRE(put_byte(old.w.get()));
    if (i % 3) l.run_nowait();
    w.stop();
    if (close_how == how::ae_fd) {
      old.r.reset();
      old.w.reset();
    } else {
      REQUIRE(::close(old.r.release()) == 0);
      REQUIRE(::close(old.w.release()) == 0);
      l.run_nowait();
    }
  }
  auto fresh = make_pipe();
  CHECK(fresh.r.get() == n);  // otherwise this cycle tests nothing
  int calls = 0;
  ae::io w(fresh.r.get(), ae::poll::read, [&] { ++calls; }, l);
  REQUIRE(put_byte(fresh.w.get()));
  const bool ok = run_until(l, [&] { return calls > 0; }, 5s);
  CHECK_MESSAGE(ok, "cycle " << i << ": the watcher on the reused fd " << n << " never fired");
  return ok;
}

}  // namespace

TEST_CASE("io/fd_reuse/closed_through_ae_fd") {
  auto l = ae::loop::create();
  for (int i = 0; i < 1000; ++i)
    if (!cycle(l, how::ae_fd, i)) break;
}

TEST_CASE("io/fd_reuse/raw_close_then_one_iteration") {
  auto l = ae::loop::create();
  for (int i = 0; i < 1000; ++i)
    if (!cycle(l, how::raw_close, i)) break;
}

TEST_CASE("io/fd_reuse/new_number_while_another_watcher_lives") {
  // Reuse with an unrelated long-lived watcher in the same loop (its fd stays registered).
  auto l = ae::loop::create();
  auto keep = make_pipe();
  int keep_calls = 0;
  ae::io k(keep.r.get(), ae::poll::read, [&] { ++keep_calls; }, l);
  for (int i = 0; i < 200; ++i)
    if (!cycle(l, i % 2 ? how::ae_fd : how::raw_close, i)) break;
  REQUIRE(put_byte(keep.w.get()));
  REQUIRE(run_until(l, [&] { return keep_calls > 0; }));
}
