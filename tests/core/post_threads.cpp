// ae/loop.hpp: loop.post() is thread-safe and runs the callable on the loop's thread.
#include "support.hpp"

#include <thread>
#include <vector>

using namespace core_test;

TEST_CASE("post/many_threads_exact_total") {
  auto l = ae::loop::create();
  constexpr int threads = 4, each = 100'000;
  const auto loop_thread = std::this_thread::get_id();
  long counter = 0;  // touched only on the loop thread
  long wrong_thread = 0;
  std::vector<std::thread> senders;
  for (int t = 0; t < threads; ++t)
    senders.emplace_back([&] {
      for (int i = 0; i < each; ++i)
        l.post([&] {
          ++counter;
          if (std::this_thread::get_id() != loop_thread) ++wrong_thread;
        });
    });
  const bool ok = run_until(l, [&] { return counter >= long{threads} * each; }, 60s);
  for (auto& s : senders) s.join();
  CHECK(ok);
  // Anything still queued runs now; the total must be exact, not more.
  for (int i = 0; i < 3; ++i) l.run_nowait();
  CHECK(counter == long{threads} * each);
  CHECK(wrong_thread == 0);
}

TEST_CASE("post/from_the_loop_thread_runs_later") {
  auto l = ae::loop::create();
  int calls = 0;
  bool inside = false;
  int early = 0;
  ae::timer t(0s, [&] {
    inside = true;
    l.post([&] {
      if (inside) ++early;
      ++calls;
    });
    inside = false;
  }, l);
  REQUIRE(run_until(l, [&] { return calls > 0; }));
  CHECK(early == 0);
  CHECK(calls == 1);
}

TEST_CASE("post/keeps_run_going_until_done") {
  auto l = ae::loop::create();
  int calls = 0;
  l.post([&] { ++calls; });
  watchdog dog(l);
  l.run();
  CHECK_FALSE(dog.fired());
  CHECK(calls == 1);
}
