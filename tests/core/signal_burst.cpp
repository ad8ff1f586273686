// DESIGN §2: a signal that arrives between two iterations is not lost. Many raised in a
// burst may be merged, but after the last one at least one callback runs.
#include "support.hpp"

#include <algorithm>
#include <csignal>

using namespace core_test;

TEST_CASE("signal/burst_none_lost_after_the_last") {
  auto l = ae::loop::create();
  long calls = 0;
  long raised_when_called = -1;  // how many had been raised when the latest callback ran
  long raised = 0;
  ae::signal s(SIGUSR1, [&] {
    ++calls;
    raised_when_called = raised;
  }, l);

  // 10,000 signals: bursts of varying size, with one iteration or none in between, and
  // after each burst the loop must call back at least once after its last signal.
  // One budget for the whole run, so a loop that is slow to wake fails in bounded time.
  const auto give_up = ae::clock::now() + 60s;
  int burst = 1;
  while (raised < 10'000) {
    for (int i = 0; i < burst && raised < 10'000; ++i) {
      REQUIRE(::kill(::getpid(), SIGUSR1) == 0);
      ++raised;
      if (i % 7 == 3) l.run_nowait();
    }
    const long target = raised;
    const auto left = std::max<ae::duration>(give_up - ae::clock::now(), 1ms);
    const bool ok = run_until(l, [&] { return raised_when_called == target; }, std::min(left, patience));
    REQUIRE_MESSAGE(ok, "no callback after signal " << target << " (calls so far: " << calls << ")");
    burst = burst * 3 % 997 + 1;
  }
  CHECK(calls >= 1);
  CHECK(calls <= raised);
}

TEST_CASE("signal/burst_from_a_callback") {
  // Raised from inside a callback: the watcher runs after that callback returns.
  auto l = ae::loop::create();
  long calls = 0;
  bool raising = false;
  int early = 0;
  ae::signal s(SIGUSR1, [&] {
    if (raising) ++early;
    ++calls;
  }, l);
  for (int round = 0; round < 20; ++round) {
    const long before = calls;
    ae::timer t(0s, [&] {
      raising = true;
      for (int i = 0; i < 50; ++i) ::kill(::getpid(), SIGUSR1);
      raising = false;
    }, l);
    REQUIRE(run_until(l, [&] { return calls > before; }));
  }
  CHECK(early == 0);
}
