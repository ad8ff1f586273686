// A child watcher watches a pidfd through the loop; when it retires, the pidfd's number goes
// back to the process. A descriptor that gets the number next must be watchable at once: the
// backend must not still think it has that number registered.
#include "support.hpp"

#include <unistd.h>

using namespace core_test;

TEST_CASE("child/pidfd_number_reused_after_the_child_exits") {
  auto l = ae::loop::create();
  for (int round = 0; round < 3; ++round) {
    const int next_free = ::dup(0);  // the number the pidfd is about to get, if one is used
    REQUIRE(next_free >= 0);
    ::close(next_free);
    const pid_t pid = fork_exit(5);
    int status = -1;
    ae::child c(pid, [&](pid_t, int st) { status = st; }, l);
    REQUIRE(run_until(l, [&] { return status != -1; }));
    CHECK(WEXITSTATUS(status) == 5);

    auto p = make_pipe();  // on pidfd systems: the pidfd's old number
    int calls = 0;
    ae::io w(p.r.get(), ae::poll::read, [&] {
      ++calls;
      drain(p.r.get());
    }, l);
    REQUIRE(put_byte(p.w.get()));
    CHECK_MESSAGE(run_until(l, [&] { return calls > 0; }),
                  "round " << round << ": fd " << p.r.get() << " (next free was " << next_free << ") never fired");
  }
}
