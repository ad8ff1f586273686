// DESIGN §2: signals are delivered in loop context, never inside the handler.
#include "support.hpp"

#include <csignal>
#include <pthread.h>
#include <thread>

using namespace core_test;

namespace {
/// Inside a handler installed with the usual mask the signal itself is blocked.
bool blocked_now(int signum) {
  sigset_t cur;
  pthread_sigmask(SIG_BLOCK, nullptr, &cur);
  return sigismember(&cur, signum) == 1;
}
}  // namespace

TEST_CASE("signal/loop_context/not_inside_kill") {
  auto l = ae::loop::create();
  bool raising = false;   // set only around kill(), outside the loop
  bool in_loop = false;   // set only around the loop's own iterations
  int calls = 0, in_handler = 0, outside_loop = 0;
  ae::signal s(SIGUSR1, [&] {
    ++calls;
    if (raising || blocked_now(SIGUSR1)) ++in_handler;
    if (!in_loop) ++outside_loop;
  }, l);
  for (int i = 0; i < 10; ++i) {
    raising = true;
    REQUIRE(::kill(::getpid(), SIGUSR1) == 0);
    raising = false;
    const int before = calls;
    in_loop = true;
    const bool ok = run_until(l, [&] { return calls > before; });
    in_loop = false;
    REQUIRE(ok);
  }
  CHECK(in_handler == 0);
  CHECK(outside_loop == 0);
}

TEST_CASE("signal/loop_context/raised_by_another_thread_while_blocked") {
  // The loop sleeps in its backend; another thread raises the signal (the kernel may run
  // the handler on that thread); the callback still runs on the loop's thread.
  auto l = ae::loop::create();
  const auto loop_thread = std::this_thread::get_id();
  int calls = 0, wrong_thread = 0, in_handler = 0;
  ae::signal s(SIGUSR1, [&] {
    ++calls;
    if (std::this_thread::get_id() != loop_thread) ++wrong_thread;
    if (blocked_now(SIGUSR1)) ++in_handler;
  }, l);
  for (int i = 0; i < 5; ++i) {
    const int before = calls;
    std::thread t([] {
      std::this_thread::sleep_for(20ms);  // let the loop block first
      ::kill(::getpid(), SIGUSR1);
    });
    const bool ok = run_until(l, [&] { return calls > before; });
    t.join();
    REQUIRE(ok);
  }
  CHECK(wrong_thread == 0);
  CHECK(in_handler == 0);
}
