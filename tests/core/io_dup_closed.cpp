// A watched fd closed through ae::fd while a duplicate keeps its file open: the kernel's
// registration of the old file can outlive the number (epoll forgets it only when the last
// duplicate closes). When the number comes back for a new file and the old file turns
// readable, the new watcher must not hear about it, and must still hear about its own file.
#include "support.hpp"

#include <unistd.h>

using namespace core_test;

TEST_CASE("io/dup_of_closed_fd_does_not_leak_readiness") {
  auto l = ae::loop::create();
  auto old = make_pipe();
  const int n = old.r.get();
  ae::fd twin(::dup(n));  // keeps the old pipe's read end open under another number
  REQUIRE(twin);
  {
    int calls = 0;
    ae::io w(n, ae::poll::read, [&] { ++calls; }, l);
    REQUIRE(put_byte(old.w.get()));
    REQUIRE(run_until(l, [&] { return calls > 0; }, 5s));
    w.stop();
    old.r.reset();  // closed through ae::fd; the twin keeps the file open
  }
  auto fresh = make_pipe();
  REQUIRE(fresh.r.get() == n);  // the number came back
  int fresh_calls = 0, empty_reads = 0;
  char c;
  ae::io w(n, ae::poll::read, [&] {
    ++fresh_calls;
    if (::read(n, &c, 1) < 0 && errno == EAGAIN) ++empty_reads;
  }, l);
  // The old file is readable (a byte is still in it), the new one is not.
  for (int i = 0; i < 20; ++i) l.run_nowait();
  CHECK(empty_reads == 0);
  CHECK(fresh_calls == 0);

  REQUIRE(put_byte(fresh.w.get()));
  REQUIRE(run_until(l, [&] { return fresh_calls > 0; }, 5s));
  CHECK(fresh_calls == 1);
  CHECK(empty_reads == 0);
  for (int i = 0; i < 20; ++i) l.run_nowait();
  CHECK(fresh_calls == 1);  // read empty: no more readiness
}
