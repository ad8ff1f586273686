// ae/child.hpp: a pid that is not our child is refused at once, not watched forever.
#include "support.hpp"

using namespace core_test;

namespace {
void check_refused(pid_t pid) {
  auto l = ae::loop::create();
  CAPTURE(pid);
  try {
    ae::child c(pid, [](pid_t, int) {}, l);
    FAIL_CHECK("ae::child accepted a pid that is not a child of this process");
  } catch (const ae::error& e) {
    CHECK(e.code() == ae::errc::not_a_child);
  }
}
}  // namespace

TEST_CASE("child/not_a_child/init") { check_refused(1); }

TEST_CASE("child/not_a_child/parent") { check_refused(::getppid()); }

TEST_CASE("child/not_a_child/already_reaped") {
  const pid_t pid = fork_exit(0);
  reap(pid);
  check_refused(pid);
}
