// ae::loop::create() honours ANYEVENT_BACKEND, so each column of the matrix really runs
// the backend it names; loops are independent of each other.
#include "support.hpp"

#include <algorithm>
#include <cstdlib>
#include <string>

using namespace core_test;

TEST_CASE("loop/create/honours_the_environment") {
  auto l = ae::loop::create();
  REQUIRE(static_cast<bool>(l));
  const char* env = std::getenv("ANYEVENT_BACKEND");
  if (env && *env && std::string(env).find(',') == std::string::npos) CHECK(l.backend() == env);
  CHECK(ae::default_loop().backend() == l.backend());
  const auto avail = ae::available_backends();
  CHECK(std::find(avail.begin(), avail.end(), std::string(l.backend())) != avail.end());
}

TEST_CASE("loop/create/loops_are_independent") {
  auto a = ae::loop::create();
  auto b = ae::loop::create();
  int a_calls = 0, b_calls = 0;
  ae::timer ta(0s, [&] { ++a_calls; }, a);
  ae::timer tb(0s, [&] { ++b_calls; }, b);
  a.run_nowait();
  CHECK(a_calls == 1);
  CHECK(b_calls == 0);
  b.run_nowait();
  CHECK(b_calls == 1);
}

TEST_CASE("loop/create/many_loops_leave_no_descriptor") {
  // main() checks the descriptor count over the whole suite; this makes a leak per loop
  // visible here too.
  auto count = [] {
    int n = 0;
    for (int i = 0; i < 4096; ++i)
      if (::fcntl(i, F_GETFD) != -1) ++n;
    return n;
  };
  const int before = count();
  for (int i = 0; i < 50; ++i) {
    auto l = ae::loop::create();
    auto p = make_pipe();
    int calls = 0;
    ae::io w(p.r.get(), ae::poll::read, [&] { ++calls; }, l);
    ae::timer t(0s, [] {}, l);
    ae::async as([] {}, l);
    ae::idle id([] {}, l);
    REQUIRE(put_byte(p.w.get()));
    REQUIRE(run_until(l, [&] { return calls > 0; }));
  }
  CHECK(count() == before);
}

TEST_CASE("loop/default_loop/is_usable") {
  auto& l = ae::default_loop();
  int calls = 0;
  ae::timer t(0s, [&] { ++calls; });  // no loop argument: the default loop
  REQUIRE(run_until(l, [&] { return calls > 0; }));
  ae::condvar<int> cv;
  ae::timer s(1ms, [cv]() mutable { cv.send(5); });
  ae::timer safety(patience, [cv]() mutable { cv.croak("timed out"); });
  CHECK(cv.recv() == 5);
}
