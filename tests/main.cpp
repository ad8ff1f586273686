// doctest main shared by every test program. It also checks that the program as a whole
// leaks no descriptor: the count in /proc/self/fd is the same before and after the suite.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <anyevent/loop.hpp>

#include <cstdio>
#include <filesystem>

static long open_fds() {
  long n = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

int main(int argc, char** argv) {
  ae::default_loop();  // created once up front, so its own descriptors are not counted as leaks
  const long before = open_fds();
  doctest::Context ctx(argc, argv);
  int rc = ctx.run();
  if (ctx.shouldExit()) return rc;
  const long after = open_fds();
  if (after != before) {
    std::fprintf(stderr, "descriptor leak: %ld open before the suite, %ld after\n", before, after);
    if (rc == 0) rc = 1;
  }
  return rc;
}
