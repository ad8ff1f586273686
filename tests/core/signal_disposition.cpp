// ae/signal.hpp: the previous disposition is restored when the last watcher of a signal
// goes (a guest leaves no trace).
#include "support.hpp"

#include <csignal>
#include <optional>

using namespace core_test;

namespace {
volatile sig_atomic_t prior_calls = 0;
extern "C" void prior_handler(int) { prior_calls = prior_calls + 1; }

struct sigaction query(int signum) {
  struct sigaction sa {};
  sigaction(signum, nullptr, &sa);
  return sa;
}

/// (A bool, because doctest cannot print function pointers.)
bool handler_is(int signum, void (*h)(int)) { return query(signum).sa_handler == h; }

/// Installs `handler` for the test and puts the original disposition back afterwards.
struct disposition {
  int signum;
  struct sigaction original {};
  disposition(int signum, void (*handler)(int), int flags) : signum(signum) {
    struct sigaction sa {};
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = flags;
    REQUIRE(sigaction(signum, &sa, &original) == 0);
  }
  ~disposition() { sigaction(signum, &original, nullptr); }
};
}  // namespace

TEST_CASE("signal/disposition/restored_to_a_handler") {
  disposition d(SIGUSR2, prior_handler, SA_NODEFER);
  auto l = ae::loop::create();
  {
    int a_calls = 0, b_calls = 0;
    std::optional<ae::signal> a, b;
    a.emplace(SIGUSR2, [&] { ++a_calls; }, l);
    b.emplace(SIGUSR2, [&] { ++b_calls; }, l);
    CHECK_FALSE(handler_is(SIGUSR2, prior_handler));

    a.reset();
    CHECK_FALSE(handler_is(SIGUSR2, prior_handler));  // b still watches
    prior_calls = 0;
    REQUIRE(::kill(::getpid(), SIGUSR2) == 0);
    REQUIRE(run_until(l, [&] { return b_calls > 0; }));
    CHECK(prior_calls == 0);
    CHECK(a_calls == 0);

    b.reset();
    const auto after = query(SIGUSR2);
    const bool same = after.sa_handler == prior_handler;
    CHECK(same);
    CHECK((after.sa_flags & SA_NODEFER) != 0);
    CHECK((after.sa_flags & SA_RESTART) == 0);
  }
  REQUIRE(::kill(::getpid(), SIGUSR2) == 0);
  CHECK(prior_calls == 1);
}

TEST_CASE("signal/disposition/restored_to_ignore") {
  disposition d(SIGUSR2, SIG_IGN, 0);
  auto l = ae::loop::create();
  {
    int calls = 0;
    ae::signal s(SIGUSR2, [&] { ++calls; }, l);
    REQUIRE(::kill(::getpid(), SIGUSR2) == 0);  // caught while watched, though ignored before
    REQUIRE(run_until(l, [&] { return calls > 0; }));
  }
  CHECK(handler_is(SIGUSR2, SIG_IGN));
  REQUIRE(::kill(::getpid(), SIGUSR2) == 0);  // ignored again: the process lives on
}

TEST_CASE("signal/disposition/restored_to_default") {
  disposition d(SIGUSR2, SIG_DFL, 0);
  auto l = ae::loop::create();
  { ae::signal s(SIGUSR2, [] {}, l); }
  CHECK(handler_is(SIGUSR2, SIG_DFL));
}

TEST_CASE("signal/disposition/watchers_in_two_loops") {
  disposition d(SIGUSR2, prior_handler, 0);
  auto l1 = ae::loop::create();
  auto l2 = ae::loop::create();
  std::optional<ae::signal> a, b;
  a.emplace(SIGUSR2, [] {}, l1);
  b.emplace(SIGUSR2, [] {}, l2);
  a.reset();
  CHECK_FALSE(handler_is(SIGUSR2, prior_handler));
  b.reset();
  CHECK(handler_is(SIGUSR2, prior_handler));
}
