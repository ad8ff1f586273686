// ae/timer.hpp: durations of any rep and period: integer ticks of whole nanoseconds take a
// fast path that must agree with the general one: negative refused (ae::error), huge values
// saturate (the timer just never fires), unsigned and narrow reps work.
#include "support.hpp"

#include <cstdint>

using namespace core_test;

TEST_CASE("timer/duration_types/agree") {
  auto l = ae::loop::create();
  int calls = 0;
  auto cb = [&] { ++calls; };
  CHECK_THROWS_AS(ae::timer(std::chrono::milliseconds(-1), cb, l), ae::error);
  CHECK_THROWS_AS(ae::timer(std::chrono::duration<signed char>(-1), cb, l), ae::error);
  CHECK_THROWS_AS(ae::timer(0ms, std::chrono::seconds(-5), cb, l), ae::error);
  CHECK_THROWS_AS(ae::timer(std::chrono::duration<double>(-0.5), cb, l), ae::error);
  {
    // Saturated far in the future, whatever the type.
    ae::timer a(std::chrono::hours::max(), cb, l);
    ae::timer b(std::chrono::duration<std::uint64_t, std::milli>(~std::uint64_t{0}), cb, l);
    ae::timer c(std::chrono::duration<std::int64_t, std::ratio<86400 * 365>>(1'000'000'000), cb, l);
    ae::timer d(std::chrono::nanoseconds::max(), cb, l);
    ae::timer e(0ms, std::chrono::hours::max(), cb, l);  // fires now, then not for ages
    for (int i = 0; i < 5; ++i) l.run_nowait();
    CHECK(a.active());
    CHECK(b.active());
    CHECK(c.active());
    CHECK(d.active());
    CHECK(e.active());
  }
  REQUIRE(calls <= 1);
  calls = 0;
  ae::timer u(std::chrono::duration<unsigned short, std::micro>(500), cb, l);
  ae::timer s(std::chrono::duration<short, std::milli>(1), cb, l);
  ae::timer p(std::chrono::duration<long long, std::pico>(1'000'000), cb, l);  // the general path
  REQUIRE(run_until(l, [&] { return calls == 3; }));
}
