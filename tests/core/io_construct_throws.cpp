// ae/io.hpp: the callable is built in place in the watcher's block after the fd is
// registered; if copying it throws, the start is undone: the exception reaches the caller,
// the loop holds nothing of it (the fd is no longer watched, run() returns at once), and
// other watchers of the same fd are untouched. A refused fd takes nothing either.
#include "callables.hpp"
#include "support.hpp"

#include <anyevent/io.hpp>

#include <stdexcept>
#include <system_error>

using namespace core_test;

TEST_CASE("io/construct_throws/start_is_undone") {
  auto l = ae::loop::create();
  auto p = make_pipe();
  int calls = 0, other = 0;
  copy_throws cb(&calls);
  big_copy_throws big(&calls);
  for (int i = 0; i < 3; ++i) {
    CHECK_THROWS_AS(ae::io(p.w.get(), ae::poll::write, cb, l), std::runtime_error);
    CHECK_THROWS_AS(ae::io(p.w.get(), ae::poll::write, big, l), std::runtime_error);
  }
  {
    // The failed starts left nothing that keeps the loop alive: run() returns by itself
    // (a pipe's write end is always writable, so a leftover watcher would keep it running).
    watchdog dog(l);
    l.run();
    CHECK_FALSE(dog.fired());
  }
  CHECK(calls == 0);

  // With a watcher already on the fd: it keeps its registration and its calls.
  {
    ae::io keep(p.w.get(), ae::poll::write, [&] { ++other; }, l);
    CHECK_THROWS_AS(ae::io(p.w.get(), ae::poll::read | ae::poll::write, cb, l), std::runtime_error);
    REQUIRE(run_until(l, [&] { return other >= 2; }));
  }
  CHECK(calls == 0);

  // A refused fd: nothing constructed, nothing registered.
  CHECK_THROWS_AS(ae::io(-1, ae::poll::read, cb, l), std::system_error);
  CHECK_THROWS_AS(ae::io(p.r.get(), ae::poll{}, cb, l), std::invalid_argument);

  // A failed start left the pools and the fd usable.
  copy_throws ok(&calls);
  ok.armed = false;
  ae::io w(p.w.get(), ae::poll::write, ok, l);
  REQUIRE(run_until(l, [&] { return calls >= 1; }));
}
