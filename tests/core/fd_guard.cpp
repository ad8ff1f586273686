// ae::fd owns a descriptor (closes on destruction, release() gives it up); ae::guard
// cancels on destruction unless release()d.
#include "support.hpp"

using namespace core_test;

namespace {
bool is_open(int n) { return ::fcntl(n, F_GETFD) != -1 || errno != EBADF; }
}  // namespace

TEST_CASE("fd/closes_on_destruction") {
  int n;
  {
    auto p = make_pipe();
    n = p.r.get();
    CHECK(static_cast<bool>(p.r));
    CHECK(is_open(n));
  }
  CHECK_FALSE(is_open(n));
}

TEST_CASE("fd/release_keeps_it_open") {
  auto p = make_pipe();
  const int n = p.r.release();
  CHECK(p.r.get() == -1);
  CHECK_FALSE(static_cast<bool>(p.r));
  p.r.reset();  // nothing owned: closes nothing
  CHECK(is_open(n));
  ::close(n);
}

TEST_CASE("fd/reset_and_move") {
  auto p = make_pipe();
  const int r = p.r.get(), w = p.w.get();
  ae::fd moved(std::move(p.r));
  CHECK(p.r.get() == -1);
  CHECK(moved.get() == r);
  moved = std::move(p.w);  // closes r, owns w
  CHECK_FALSE(is_open(r));
  CHECK(moved.get() == w);
  moved.reset();
  CHECK_FALSE(is_open(w));
  CHECK(moved.get() == -1);
}

TEST_CASE("fd/default_is_empty") {
  ae::fd f;
  CHECK(f.get() == -1);
  CHECK_FALSE(static_cast<bool>(f));
}

TEST_CASE("guard/cancels_on_destruction") {
  int cancelled = 0;
  { ae::guard g([&] { ++cancelled; }); }
  CHECK(cancelled == 1);
}

TEST_CASE("guard/release_does_not_cancel") {
  int cancelled = 0;
  {
    ae::guard g([&] { ++cancelled; });
    CHECK(static_cast<bool>(g));
    g.release();
    CHECK_FALSE(static_cast<bool>(g));
  }
  CHECK(cancelled == 0);
}

TEST_CASE("guard/reset_is_idempotent_and_move_cancels_the_old") {
  int a = 0, b = 0;
  ae::guard g([&] { ++a; });
  g.reset();
  g.reset();
  CHECK(a == 1);
  g = ae::guard([&] { ++b; });
  ae::guard h([&] { ++a; });
  h = std::move(g);  // h's old operation is cancelled, b's moves over
  CHECK(a == 2);
  CHECK(b == 0);
  { ae::guard sink(std::move(h)); }
  CHECK(b == 1);
}
