// A block names its loop by a 16-bit id (core/src/loop_impl.hpp note 7), so at most 65,536
// loops exist at once. Ids go back when a loop's memory goes — with its last handle, or with
// the last watcher handle that outlived it — so a program that makes and drops loops one
// after another never runs out, and a watcher handle never reaches another loop through a
// reused id.
#include "support.hpp"

#include <anyevent/io.hpp>


using namespace core_test;

TEST_CASE("loop/ids_reused") {
  constexpr int rounds = 70'000;  // more than there are ids
  auto p = make_pipe();
  ae::timer outlived;
  int fired = 0;
  for (int i = 0; i < rounds; ++i) {
    auto l = ae::loop::create();
    if (i % 1000 == 0) {
      // A handle that outlives its loop keeps the loop's id until it goes, then the next
      // loop may get the id: the old handle must stay inert all the same.
      outlived = ae::timer(1h, [&] { ++fired; }, l);
    } else if (i % 1000 == 1) {
      CHECK_FALSE(outlived.active());
      outlived = ae::timer();
      ae::timer t(0ms, [&] { ++fired; }, l);
      ae::io w(p.w.get(), ae::poll::write, [&] { ++fired; }, l);
      REQUIRE(run_until(l, [&] { return fired == 2; }));
      fired = 0;
    }
  }
  CHECK(fired == 0);
}
