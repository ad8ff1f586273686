// DESIGN §2: any number of io watchers on one fd and direction, each called; stopping one
// leaves the others working; the callback gets the ready bits.
#include "support.hpp"

#include <optional>
#include <sys/socket.h>

using namespace core_test;

TEST_CASE("io/shared_fd/each_watcher_called") {
  auto l = ae::loop::create();
  auto p = make_pipe();
  int calls[3] = {};
  std::optional<ae::io> w[3];
  for (int i = 0; i < 3; ++i) w[i].emplace(p.r.get(), ae::poll::read, [&calls, i] { ++calls[i]; }, l);

  REQUIRE(put_byte(p.w.get()));
  REQUIRE(run_until(l, [&] { return calls[0] && calls[1] && calls[2]; }));
  // They are dispatched together, once per iteration each.
  CHECK(calls[0] == calls[1]);
  CHECK(calls[1] == calls[2]);

  SUBCASE("stopping one leaves the others working") {
    w[1]->stop();
    const int before1 = calls[1], before0 = calls[0], before2 = calls[2];
    for (int i = 0; i < 5; ++i) l.run_once();  // the pipe stays readable: never blocks
    CHECK(calls[1] == before1);
    CHECK(calls[0] == before0 + 5);
    CHECK(calls[2] == before2 + 5);
  }
  SUBCASE("destroying all but one leaves it working") {
    w[0].reset();
    w[2].reset();
    drain(p.r.get());
    for (int& c : calls) c = 0;
    l.run_nowait();
    CHECK(calls[1] == 0);  // drained: nothing to report
    REQUIRE(put_byte(p.w.get()));
    REQUIRE(run_until(l, [&] { return calls[1] > 0; }));
    CHECK(calls[0] == 0);
    CHECK(calls[2] == 0);
  }
  SUBCASE("a watcher added later joins") {
    int late = 0;
    ae::io extra(p.r.get(), ae::poll::read, [&] { ++late; }, l);
    REQUIRE(run_until(l, [&] { return late > 0; }));
  }
}

TEST_CASE("io/shared_fd/read_and_write_watchers_get_their_own_bits") {
  auto l = ae::loop::create();
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
  ae::fd a(sv[0]), b(sv[1]);
  REQUIRE(put_byte(b.get()));  // a: readable and writable

  ae::poll got_read{}, got_write{}, got_both{};
  int n_read = 0, n_write = 0, n_both = 0;
  ae::io r(a.get(), ae::poll::read, [&](ae::poll e) { got_read = e; ++n_read; }, l);
  ae::io w(a.get(), ae::poll::write, [&](ae::poll e) { got_write = e; ++n_write; }, l);
  ae::io both(a.get(), ae::poll::both, [&](ae::poll e) { got_both = e; ++n_both; }, l);
  REQUIRE(run_until(l, [&] { return n_read && n_write && got_both == ae::poll::both; }));
  CHECK(got_read == ae::poll::read);
  CHECK(got_write == ae::poll::write);
  CHECK(got_both == ae::poll::both);

  SUBCASE("stopping the read watcher keeps write readiness") {
    r.stop();
    drain(a.get());
    n_write = n_both = 0;
    got_both = {};
    REQUIRE(run_until(l, [&] { return n_write > 0 && n_both > 0; }));
    CHECK(got_both == ae::poll::write);  // nothing to read any more
  }
}

TEST_CASE("io/shared_fd/both_on_a_writable_only_pipe") {
  auto l = ae::loop::create();
  auto p = make_pipe();
  ae::poll got{};
  int calls = 0;
  ae::io w(p.w.get(), ae::poll::both, [&](ae::poll e) { got = e; ++calls; }, l);
  REQUIRE(run_until(l, [&] { return calls > 0; }));
  CHECK(got == ae::poll::write);
}

TEST_CASE("io/shared_fd/read_after_write_watcher_stops") {
  // The registration of the fd shrinks from both to read only when the write watcher goes.
  auto l = ae::loop::create();
  int sv[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == 0);
  ae::fd a(sv[0]), b(sv[1]);
  int reads = 0, writes = 0;
  ae::io r(a.get(), ae::poll::read, [&] { ++reads; }, l);
  std::optional<ae::io> w;
  w.emplace(a.get(), ae::poll::write, [&] { ++writes; }, l);
  REQUIRE(run_until(l, [&] { return writes > 0; }));
  CHECK(reads == 0);
  w.reset();
  REQUIRE(put_byte(b.get()));
  REQUIRE(run_until(l, [&] { return reads > 0; }));
}
