// ae/timer.hpp: a timer builds its callable in place in a block sized by the callable (32,
// 48 or 64 bytes; larger ones, or ones whose move may throw, behind a pointer). Whatever the
// size, one-shot or repeating, the callable sees what it captured, runs as often as it
// should, and is destroyed exactly once: when its handle goes, fired or not.
#include "callables.hpp"
#include "support.hpp"

#include <array>
#include <memory>
#include <string>

using namespace core_test;

namespace {

template <std::size_t N>
struct payload_cb : payload<N> {
  void operator()() {
    if (this->intact()) ++*this->calls;  // corrupted: not counted
  }
};

template <std::size_t N>
payload_cb<N> make_payload(int* calls, const std::shared_ptr<int>& alive) {
  return filled(payload_cb<N>{{{}, calls, alive}});
}

template <std::size_t N>
void check_size() {
  CAPTURE(N);
  auto l = ae::loop::create();
  auto alive = std::make_shared<int>(0);
  {
    // one-shot: fires once, its callable lives until the handle goes
    int calls = 0;
    ae::timer t(0ms, make_payload<N>(&calls, alive), l);
    CHECK(alive.use_count() == 2);
    REQUIRE(run_until(l, [&] { return calls == 1; }));
    CHECK_FALSE(t.active());
    CHECK(alive.use_count() == 2);
    t.stop();
    CHECK(alive.use_count() == 1);
  }
  {
    // repeating: fires again and again with the same captures
    int calls = 0;
    ae::timer t(0ms, 1ms, make_payload<N>(&calls, alive), l);
    REQUIRE(run_until(l, [&] { return calls >= 3; }));
    CHECK(t.active());
    t = ae::timer();
    CHECK(alive.use_count() == 1);
  }
  {
    // never fired: destroyed with the handle
    int calls = 0;
    auto cb = make_payload<N>(&calls, alive);  // an lvalue: copied into the block
    { ae::timer t(1h, cb, l); CHECK(alive.use_count() == 3); }
    CHECK(alive.use_count() == 2);
    CHECK(calls == 0);
  }
  CHECK(alive.use_count() == 1);
}

}  // namespace

TEST_CASE("timer/callable_sizes/every_slot_class") {
  // With the counter and the shared_ptr: 16 bytes of bookkeeping plus the payload, so this
  // walks one-shot blocks of 32 (none: the shared_ptr alone is 16), 48, 64 bytes and the
  // heap fallback, and repeating blocks of 48, 64 and the fallback.
  check_size<1>();
  check_size<8>();
  check_size<16>();
  check_size<24>();
  check_size<32>();
  check_size<64>();
  check_size<200>();
}

TEST_CASE("timer/callable_sizes/small_trivial_lambdas") {
  // Lambdas capturing 0, 1 and 2 pointers (the 32- and 48-byte one-shot blocks), with many
  // alive at once so the pools hand out and reuse slots of every class.
  auto l = ae::loop::create();
  int a = 0, b = 0, c = 0;
  std::vector<ae::timer> ts;
  for (int i = 0; i < 300; ++i) {
    ts.emplace_back(std::chrono::microseconds(i), [] {}, l);
    ts.emplace_back(std::chrono::microseconds(i), [&a] { ++a; }, l);
    ts.emplace_back(std::chrono::microseconds(i), [&b, &c] { ++b, ++c; }, l);
  }
  for (int i = 0; i < 300; i += 2) ts[3 * i + 1].stop();  // returns slots mid-way
  REQUIRE(run_until(l, [&] { return a == 150 && b == 300; }));
  CHECK(c == 300);
  ts.clear();
  for (int i = 0; i < 100; ++i) ts.emplace_back(0ms, [&a] { ++a; }, l);
  REQUIRE(run_until(l, [&] { return a == 250; }));
}

TEST_CASE("timer/callable_sizes/move_may_throw_goes_to_the_heap") {
  // A callable whose move constructor is not noexcept cannot live in the block (blocks never
  // move it, but unique_function's rule is kept): it is called through a pointer.
  struct throwing_move {
    int* calls;
    std::string s = "a string long enough to live on the heap, not in SSO";
    throwing_move(int* c) : calls(c) {}
    throwing_move(const throwing_move&) = default;
    throwing_move(throwing_move&& o) noexcept(false) : calls(o.calls), s(std::move(o.s)) {}
    void operator()() {
      if (s.size() > 10) ++*calls;
    }
  };
  auto l = ae::loop::create();
  int calls = 0;
  ae::timer t(0ms, throwing_move(&calls), l);
  REQUIRE(run_until(l, [&] { return calls == 1; }));
}

TEST_CASE("timer/callable_sizes/function_pointer") {
  static int calls;
  calls = 0;
  auto l = ae::loop::create();
  void (*fp)() = [] { ++calls; };
  ae::timer t(0ms, fp, l);
  ae::timer r(0ms, 1ms, fp, l);
  REQUIRE(run_until(l, [&] { return calls >= 3; }));
}
