// DESIGN §2: several watchers of one signal all fire — in one loop and across loops.
#include "support.hpp"

#include <csignal>
#include <optional>

using namespace core_test;

TEST_CASE("signal/two_watchers/one_loop") {
  auto l = ae::loop::create();
  int a = 0, b = 0;
  ae::signal sa(SIGUSR1, [&] { ++a; }, l);
  std::optional<ae::signal> sb;
  sb.emplace(SIGUSR1, [&] { ++b; }, l);
  REQUIRE(::kill(::getpid(), SIGUSR1) == 0);
  REQUIRE(run_until(l, [&] { return a > 0 && b > 0; }));

  SUBCASE("the other stays after one goes") {
    sb.reset();
    const int a0 = a, b0 = b;
    REQUIRE(::kill(::getpid(), SIGUSR1) == 0);
    REQUIRE(run_until(l, [&] { return a > a0; }));
    CHECK(b == b0);
  }
}

TEST_CASE("signal/two_watchers/two_loops") {
  auto l1 = ae::loop::create();
  auto l2 = ae::loop::create();
  int a = 0, b = 0;
  ae::signal sa(SIGUSR1, [&] { ++a; }, l1);
  ae::signal sb(SIGUSR1, [&] { ++b; }, l2);
  REQUIRE(::kill(::getpid(), SIGUSR1) == 0);
  REQUIRE(run_until(l1, [&] { return a > 0; }));
  REQUIRE(run_until(l2, [&] { return b > 0; }));
}

TEST_CASE("signal/two_watchers/different_signals") {
  auto l = ae::loop::create();
  int u1 = 0, u2 = 0;
  ae::signal s1(SIGUSR1, [&] { ++u1; }, l);
  ae::signal s2(SIGUSR2, [&] { ++u2; }, l);
  REQUIRE(::kill(::getpid(), SIGUSR2) == 0);
  REQUIRE(run_until(l, [&] { return u2 > 0; }));
  CHECK(u1 == 0);
  REQUIRE(::kill(::getpid(), SIGUSR1) == 0);
  REQUIRE(run_until(l, [&] { return u1 > 0; }));
  CHECK(u2 == 1);
}
