// ae/condvar.hpp: send/recv, croak, begin/end groups, cb(), and recv() inside a callback
// throwing ae::recursive_wait on every backend.
#include "support.hpp"

#include <stdexcept>
#include <string>

using namespace core_test;

namespace {
/// A safety timer that croaks `cv` so a recv() that would hang fails instead.
template <class T>
ae::timer croak_after(ae::condvar<T> cv, ae::loop& l, ae::duration limit = patience) {
  l.now_update();
  return ae::timer(limit, [cv]() mutable { cv.croak("condvar test timed out"); }, l);
}
}  // namespace

TEST_CASE("condvar/send_recv_value") {
  auto l = ae::loop::create();
  ae::condvar<int> cv(l);
  auto safety = croak_after(cv, l);
  CHECK_FALSE(cv.ready());
  ae::timer t(1ms, [cv]() mutable { cv.send(42); }, l);
  CHECK(cv.recv() == 42);
  CHECK(cv.ready());
  CHECK(cv.recv() == 42);  // again: already ready, no waiting
}

TEST_CASE("condvar/send_void_and_copies_share_state") {
  auto l = ae::loop::create();
  ae::condvar<> cv(l);
  ae::condvar<> copy = cv;
  auto safety = croak_after(cv, l);
  ae::timer t(1ms, [copy]() mutable { copy.send(); }, l);
  cv.recv();
  CHECK(cv.ready());
  CHECK(copy.ready());
}

TEST_CASE("condvar/second_send_is_ignored") {
  auto l = ae::loop::create();
  ae::condvar<std::string> cv(l);
  cv.send("first");
  cv.send("second");
  CHECK(cv.recv() == "first");
}

TEST_CASE("condvar/croak_rethrows") {
  auto l = ae::loop::create();
  SUBCASE("a message") {
    ae::condvar<int> cv(l);
    auto safety = croak_after(cv, l);
    ae::timer t(1ms, [cv]() mutable { cv.croak("it broke"); }, l);
    CHECK_THROWS_WITH_AS(cv.recv(), "it broke", std::runtime_error);
    CHECK(cv.ready());
    CHECK_THROWS_WITH_AS(cv.recv(), "it broke", std::runtime_error);  // every time
  }
  SUBCASE("an exception_ptr") {
    ae::condvar<> cv(l);
    auto safety = croak_after(cv, l);
    ae::timer t(1ms, [cv]() mutable { cv.croak(std::make_exception_ptr(std::out_of_range("range"))); }, l);
    CHECK_THROWS_AS(cv.recv(), std::out_of_range);
  }
}

TEST_CASE("condvar/begin_end_with_group_callback") {
  auto l = ae::loop::create();
  ae::condvar<int> cv(l);
  auto safety = croak_after(cv, l);
  int group_calls = 0, done = 0;
  cv.begin([&](ae::condvar<int>& c) {
    ++group_calls;
    c.send(done);
  });
  cv.begin();
  cv.begin();
  ae::timer a(1ms, [&, cv]() mutable { ++done; cv.end(); }, l);
  ae::timer b(2ms, [&, cv]() mutable { ++done; cv.end(); }, l);
  ae::timer c(3ms, [&, cv]() mutable { ++done; cv.end(); }, l);
  CHECK(cv.recv() == 3);
  CHECK(group_calls == 1);
}

TEST_CASE("condvar/begin_end_without_group_callback_sends") {
  auto l = ae::loop::create();
  ae::condvar<> cv(l);
  auto safety = croak_after(cv, l);
  cv.begin();
  cv.begin();
  ae::timer a(1ms, [cv]() mutable { cv.end(); }, l);
  ae::timer b(2ms, [cv]() mutable { cv.end(); }, l);
  cv.recv();
  CHECK(cv.ready());
}

TEST_CASE("condvar/cb_called_once_when_ready") {
  auto l = ae::loop::create();
  SUBCASE("registered before") {
    ae::condvar<int> cv(l);
    int calls = 0, value = 0;
    cv.cb([&](ae::condvar<int>& c) {
      ++calls;
      value = c.recv();  // ready: no wait, no throw
    });
    CHECK(calls == 0);
    ae::timer t(1ms, [cv]() mutable {
      cv.send(7);
      cv.send(8);
    }, l);
    REQUIRE(run_until(l, [&] { return calls > 0; }));
    {
      ae::timer keep(0s, 1ms, [] {}, l);
      for (int i = 0; i < 3; ++i) l.run_once();
    }
    CHECK(calls == 1);
    CHECK(value == 7);
  }
  SUBCASE("registered after: at once") {
    ae::condvar<int> cv(l);
    cv.send(3);
    int calls = 0;
    cv.cb([&](ae::condvar<int>&) { ++calls; });
    CHECK(calls == 1);
  }
}

TEST_CASE("condvar/recv_inside_a_callback_throws_recursive_wait") {
  auto l = ae::loop::create();
  auto p = make_pipe();
  ae::condvar<int> never(l);
  int checked = 0;
  auto try_recv = [&] {
    CHECK_THROWS_AS(never.recv(), ae::recursive_wait);
    try {
      never.recv();
    } catch (const ae::error& e) {
      CHECK(e.code() == ae::errc::recursive_wait);
    }
    ++checked;
  };
  SUBCASE("timer") {
    ae::timer t(0s, try_recv, l);
    REQUIRE(run_until(l, [&] { return checked > 0; }));
  }
  SUBCASE("io") {
    REQUIRE(put_byte(p.w.get()));
    ae::io w;
    w = ae::io(p.r.get(), ae::poll::read, [&] {
      w.stop();
      try_recv();
    }, l);
    REQUIRE(run_until(l, [&] { return checked > 0; }));
  }
  SUBCASE("idle") {
    ae::idle i;
    i = ae::idle([&] {
      i.stop();
      try_recv();
    }, l);
    REQUIRE(run_until(l, [&] { return checked > 0; }));
  }
  SUBCASE("post") {
    l.post(try_recv);
    REQUIRE(run_until(l, [&] { return checked > 0; }));
  }
  SUBCASE("postpone") {
    ae::postpone(try_recv, l);
    REQUIRE(run_until(l, [&] { return checked > 0; }));
  }
  SUBCASE("another loop's condvar") {
    // The rule is per thread: no loop can be re-entered from inside a callback.
    auto other = ae::loop::create();
    ae::condvar<int> elsewhere(other);
    ae::timer t(0s, [&] {
      CHECK_THROWS_AS(elsewhere.recv(), ae::recursive_wait);
      ++checked;
    }, l);
    REQUIRE(run_until(l, [&] { return checked > 0; }));
  }
  CHECK_FALSE(never.ready());
}

TEST_CASE("condvar/recv_from_a_cb_chain_outside_callbacks") {
  // recv() outside any callback may be called again after an earlier recv() returned.
  auto l = ae::loop::create();
  for (int i = 0; i < 3; ++i) {
    ae::condvar<int> cv(l);
    auto safety = croak_after(cv, l);
    ae::timer t(1ms, [cv, i]() mutable { cv.send(i); }, l);
    CHECK(cv.recv() == i);
  }
}
