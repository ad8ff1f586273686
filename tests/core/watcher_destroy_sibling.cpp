// DESIGN §2: destruction is synchronous — a watcher destroyed by a sibling that runs earlier
// in the same iteration never has its callback called, though its event was already due.
#include "support.hpp"

#include <csignal>
#include <optional>

using namespace core_test;

namespace {
void spin(ae::loop& l, int n = 5) {
  ae::timer keep(0s, 1ms, [] {}, l);
  for (int i = 0; i < n; ++i) l.run_once();
}
}  // namespace

TEST_CASE("watcher/destroy_sibling/timers_with_the_same_deadline") {
  auto l = ae::loop::create();
  int a_calls = 0, b_calls = 0;
  std::optional<ae::timer> a, b;
  a.emplace(5ms, [&] {
    ++a_calls;
    b.reset();
  }, l);
  b.emplace(5ms, [&] {
    ++b_calls;
    a.reset();
  }, l);
  REQUIRE(run_until(l, [&] { return a_calls + b_calls > 0; }));
  spin(l);
  CHECK(a_calls + b_calls == 1);
}

TEST_CASE("watcher/destroy_sibling/interval_timers_with_the_same_deadline") {
  auto l = ae::loop::create();
  int a_calls = 0, b_calls = 0;
  std::optional<ae::timer> a, b;
  a.emplace(2ms, 2ms, [&] {
    ++a_calls;
    b.reset();
  }, l);
  b.emplace(2ms, 2ms, [&] {
    ++b_calls;
    a.reset();
  }, l);
  REQUIRE(run_until(l, [&] { return a_calls + b_calls > 0; }));
  spin(l);
  // The survivor goes on; the destroyed one never ran.
  CHECK((a_calls == 0 || b_calls == 0));
  CHECK(a_calls + b_calls >= 1);
}

TEST_CASE("watcher/destroy_sibling/io_on_two_readable_pipes") {
  auto l = ae::loop::create();
  auto p = make_pipe(), q = make_pipe();
  REQUIRE(put_byte(p.w.get()));
  REQUIRE(put_byte(q.w.get()));  // both readable before the iteration starts
  int a_calls = 0, b_calls = 0;
  std::optional<ae::io> a, b;
  a.emplace(p.r.get(), ae::poll::read, [&] {
    ++a_calls;
    b.reset();
  }, l);
  b.emplace(q.r.get(), ae::poll::read, [&] {
    ++b_calls;
    a.reset();
  }, l);
  REQUIRE(run_until(l, [&] { return a_calls + b_calls > 0; }));
  CHECK(a_calls + b_calls == 1);  // the first iteration called exactly one of them
  spin(l);
  CHECK((a_calls == 0 || b_calls == 0));
}

TEST_CASE("watcher/destroy_sibling/io_on_one_fd") {
  auto l = ae::loop::create();
  auto p = make_pipe();
  REQUIRE(put_byte(p.w.get()));
  int a_calls = 0, b_calls = 0;
  std::optional<ae::io> a, b;
  a.emplace(p.r.get(), ae::poll::read, [&] {
    ++a_calls;
    b.reset();
  }, l);
  b.emplace(p.r.get(), ae::poll::read, [&] {
    ++b_calls;
    a.reset();
  }, l);
  REQUIRE(run_until(l, [&] { return a_calls + b_calls > 0; }));
  CHECK(a_calls + b_calls == 1);
  spin(l);
  CHECK((a_calls == 0 || b_calls == 0));
}

TEST_CASE("watcher/destroy_sibling/io_destroys_a_due_timer") {
  auto l = ae::loop::create();
  auto p = make_pipe();
  REQUIRE(put_byte(p.w.get()));
  int io_calls = 0, timer_calls = 0;
  std::optional<ae::io> a;
  std::optional<ae::timer> t;
  t.emplace(0s, [&] {
    ++timer_calls;
    a.reset();
  }, l);
  a.emplace(p.r.get(), ae::poll::read, [&] {
    ++io_calls;
    t.reset();
  }, l);
  REQUIRE(run_until(l, [&] { return io_calls + timer_calls > 0; }));
  CHECK(io_calls + timer_calls == 1);
  spin(l);
  CHECK((io_calls == 0 || timer_calls == 0));
}

TEST_CASE("watcher/destroy_sibling/idle") {
  auto l = ae::loop::create();
  int a_calls = 0, b_calls = 0;
  std::optional<ae::idle> a, b;
  a.emplace([&] {
    ++a_calls;
    b.reset();
  }, l);
  b.emplace([&] {
    ++b_calls;
    a.reset();
  }, l);
  REQUIRE(run_until(l, [&] { return a_calls + b_calls > 0; }));
  CHECK(a_calls + b_calls == 1);
  spin(l);
  CHECK((a_calls == 0 || b_calls == 0));
}

TEST_CASE("watcher/destroy_sibling/signal") {
  auto l = ae::loop::create();
  int a_calls = 0, b_calls = 0;
  ae::signal keep(SIGUSR1, [] {}, l);  // SIGUSR1 stays caught whatever the order
  std::optional<ae::signal> a, b;
  a.emplace(SIGUSR1, [&] {
    ++a_calls;
    b.reset();
  }, l);
  b.emplace(SIGUSR1, [&] {
    ++b_calls;
    a.reset();
  }, l);
  ::kill(::getpid(), SIGUSR1);
  REQUIRE(run_until(l, [&] { return a_calls + b_calls > 0; }));
  spin(l);
  CHECK(a_calls + b_calls == 1);
}
