// An exception thrown by a callback propagates out of run()/run_once(): the core catches it
// at the dispatch boundary (it must not unwind through a C library's frames) and rethrows.
#include "support.hpp"

#include <optional>
#include <stdexcept>

using namespace core_test;

namespace {
struct boom : std::runtime_error {
  using std::runtime_error::runtime_error;
};
}  // namespace

TEST_CASE("exception/from_a_timer_out_of_run") {
  auto l = ae::loop::create();
  bool expired = false;
  ae::timer safety(patience, [&] {
    expired = true;
    l.stop();
  }, l);
  ae::timer t(1ms, [] { throw boom("from a timer"); }, l);
  CHECK_THROWS_WITH_AS(l.run(), "from a timer", boom);
  CHECK_FALSE(expired);

  // The loop is still usable afterwards.
  int calls = 0;
  ae::timer again(1ms, [&] { ++calls; }, l);
  CHECK(run_until(l, [&] { return calls > 0; }));
}

TEST_CASE("exception/from_an_io_callback_out_of_run_once") {
  auto l = ae::loop::create();
  auto p = make_pipe();
  REQUIRE(put_byte(p.w.get()));
  int calls = 0;
  std::optional<ae::io> w;
  w.emplace(p.r.get(), ae::poll::read, [&] {
    ++calls;
    w.reset();
    throw boom("from io");
  }, l);
  bool expired = false;
  ae::timer safety(patience, [&] { expired = true; }, l);
  bool thrown = false;
  while (!thrown && !expired) {
    try {
      l.run_once();
    } catch (const boom& e) {
      thrown = true;
      CHECK(std::string(e.what()) == "from io");
    }
  }
  CHECK(thrown);
  CHECK(calls == 1);
}

TEST_CASE("exception/from_each_kind_of_callback") {
  auto l = ae::loop::create();
  auto p = make_pipe();
  bool expired = false;
  ae::timer safety(patience, [&] { expired = true; }, l);
  auto expect_throw = [&] {
    bool thrown = false;
    while (!thrown && !expired) {
      try {
        l.run_once();
      } catch (const boom&) {
        thrown = true;
      }
    }
    return thrown;
  };
  SUBCASE("idle") {
    ae::idle i;
    i = ae::idle([&] {
      i.stop();
      throw boom("idle");
    }, l);
    CHECK(expect_throw());
  }
  SUBCASE("async") {
    ae::async a([] { throw boom("async"); }, l);
    a.send();
    CHECK(expect_throw());
  }
  SUBCASE("post") {
    l.post([] { throw boom("post"); });
    CHECK(expect_throw());
  }
  SUBCASE("postpone") {
    ae::postpone([] { throw boom("postpone"); }, l);
    CHECK(expect_throw());
  }
  SUBCASE("signal") {
    ae::signal s(SIGUSR1, [] { throw boom("signal"); }, l);
    ::kill(::getpid(), SIGUSR1);
    CHECK(expect_throw());
  }
  SUBCASE("child") {
    const pid_t pid = fork_exit(0);
    int calls = 0;
    ae::child c(pid, [&](pid_t, int) {
      ++calls;
      throw boom("child");
    }, l);
    CHECK(expect_throw());
    if (!calls) reap(pid);
  }
}

TEST_CASE("exception/later_callbacks_still_run_afterwards") {
  // Two timers due together: the first throws; the second is not lost, it runs in the
  // same or a later iteration.
  auto l = ae::loop::create();
  int second = 0, thrown = 0;
  ae::timer a(1ms, [] { throw boom("first"); }, l);
  ae::timer b(1ms, [&] { ++second; }, l);
  bool expired = false;
  ae::timer safety(patience, [&] { expired = true; }, l);
  while (second == 0 && !expired) {
    try {
      l.run_once();
    } catch (const boom&) {
      ++thrown;
    }
  }
  CHECK(thrown == 1);
  CHECK(second == 1);
}
