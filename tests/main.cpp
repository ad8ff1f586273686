// doctest main shared by every test program. It also checks that the program as a whole
// leaks no descriptor: the count in /proc/self/fd is the same before and after the suite.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <anyevent/loop.hpp>

#include <cstdio>
#include <filesystem>

// A test program may define this to prepare its environment before the first test (the net
// tests point name resolution at a DNS server of their own: tests/net/test_dns.cpp).
void test_program_setup() __attribute__((weak));

static long open_fds() {
  long n = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

int main(int argc, char** argv) {
  ae::default_loop();  // created once up front, so its own descriptors are not counted as leaks
  if (test_program_setup) test_program_setup();
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
