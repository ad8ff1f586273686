// ae/io.hpp: an io watcher builds its callable in place in a block sized by the callable (48
// or 64 bytes; larger ones, or ones whose move may throw, behind a pointer). Whatever the
// size and whether the callable takes the ready bits or nothing, it sees what it captured,
// runs on each readiness, and is destroyed exactly once: when its handle goes.
#include "callables.hpp"
#include "support.hpp"

#include <anyevent/io.hpp>

#include <array>
#include <memory>
#include <vector>

using namespace core_test;

namespace {

template <std::size_t N>
struct with_bits : payload<N> {
  ae::poll* seen;
  void operator()(ae::poll p) {
    if (!this->intact()) return;  // corrupted: not counted
    *seen = p;
    ++*this->calls;
  }
};

template <std::size_t N>
struct without_bits : payload<N> {
  void operator()() {
    if (this->intact()) ++*this->calls;
  }
};

template <std::size_t N>
void check_size() {
  CAPTURE(N);
  auto l = ae::loop::create();
  auto alive = std::make_shared<int>(0);
  auto p = make_pipe();
  {
    // takes the ready bits; runs while readable, its callable lives until the handle goes
    int calls = 0;
    ae::poll seen{};
    ae::io w(p.r.get(), ae::poll::read, filled(with_bits<N>{{{}, &calls, alive}, &seen}), l);
    CHECK(alive.use_count() == 2);
    REQUIRE(put_byte(p.w.get()));
    REQUIRE(run_until(l, [&] { return calls >= 2; }));
    CHECK(seen == ae::poll::read);
    CHECK(w.fd() == p.r.get());
    drain(p.r.get());
    w.stop();
    CHECK(alive.use_count() == 1);
  }
  {
    // takes nothing
    int calls = 0;
    ae::io w(p.w.get(), ae::poll::write, filled(without_bits<N>{{{}, &calls, alive}}), l);
    REQUIRE(run_until(l, [&] { return calls >= 3; }));
    w = ae::io();
    CHECK(alive.use_count() == 1);
  }
  {
    // never ready: destroyed with the handle; an lvalue callable is copied into the block
    int calls = 0;
    auto cb = filled(without_bits<N>{{{}, &calls, alive}});
    { ae::io w(p.r.get(), ae::poll::read, cb, l); CHECK(alive.use_count() == 3); }
    CHECK(alive.use_count() == 2);
    CHECK(calls == 0);
  }
  CHECK(alive.use_count() == 1);
}

}  // namespace

TEST_CASE("io/callable_sizes/every_slot_class") {
  // With the counter and the shared_ptr (and the bits pointer): 16 or 24 bytes of bookkeeping
  // plus the payload, so this walks blocks of 48 and 64 bytes and the heap fallback.
  check_size<1>();
  check_size<8>();
  check_size<16>();
  check_size<24>();
  check_size<64>();
}

TEST_CASE("io/callable_sizes/many_small_lambdas_share_fds") {
  // Lambdas capturing 0, 1, 2 and 5 pointers on the same fds, so one fd's list holds blocks
  // of every slot class and the pools hand out and reuse slots of each.
  auto l = ae::loop::create();
  std::vector<pipe_pair> pipes;
  for (int i = 0; i < 8; ++i) pipes.push_back(make_pipe());
  int a = 0, b = 0, c = 0, d = 0;
  int* far[5] = {&d, &d, &d, &d, &d};
  std::vector<ae::io> ws;
  for (auto& p : pipes) {
    for (int k = 0; k < 4; ++k) {
      ws.emplace_back(p.w.get(), ae::poll::write, [] {}, l);
      ws.emplace_back(p.w.get(), ae::poll::write, [&a] { ++a; }, l);
      ws.emplace_back(p.w.get(), ae::poll::write, [&b, &c](ae::poll) { ++b, ++c; }, l);
      ws.emplace_back(p.w.get(), ae::poll::write, [far] { ++*far[4]; }, l);
    }
  }
  for (std::size_t i = 1; i < ws.size(); i += 8) ws[i].stop();  // returns slots mid-way
  REQUIRE(l.run_once());
  CHECK(a == 8 * 4 / 2);
  CHECK(b == 8 * 4);
  CHECK(c == 8 * 4);
  CHECK(d == 8 * 4);
  ws.clear();
  watchdog dog(l);
  l.run();  // nothing is left alive: returns by itself
  CHECK_FALSE(dog.fired());
}
