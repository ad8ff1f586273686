// A host program that runs libuv itself: ae watchers fire inside the host's uv_run, and a
// guest leaves no trace (DESIGN §2: uv_run returns by itself, uv_loop_close succeeds, the
// signal disposition is restored).
#include <doctest/doctest.h>

#include <anyevent/async.hpp>
#include <anyevent/backends/libuv.hpp>
#include <anyevent/fd.hpp>
#include <anyevent/idle.hpp>
#include <anyevent/io.hpp>
#include <anyevent/signal.hpp>
#include <anyevent/timer.hpp>

#include <csignal>
#include <thread>
#include <unistd.h>

using namespace std::chrono_literals;

namespace {

// glibc adds the kernel's SA_RESTORER (0x04000000, not in its headers) to every disposition
// it installs, also when one is put back; it is not part of what the program chose.
bool same_disposition(const struct sigaction& a, const struct sigaction& b) {
  const int flags = ~0x04000000;
  if (a.sa_handler != b.sa_handler || (a.sa_flags & flags) != (b.sa_flags & flags)) return false;
  for (int s = 1; s < NSIG; ++s)  // the kernel's part of sigset_t; glibc's is larger
    if (sigismember(&a.sa_mask, s) != sigismember(&b.sa_mask, s)) return false;
  return true;
}

}  // namespace

TEST_CASE("adopt/libuv_host_runs_its_own_loop") {
  struct sigaction before {};
  REQUIRE(::sigaction(SIGUSR1, nullptr, &before) == 0);

  uv_loop_t host;
  REQUIRE(uv_loop_init(&host) == 0);

  bool timer_fired = false, io_fired = false, signal_fired = false, async_fired = false, idle_fired = false;
  bool gave_up = false;
  {
    ae::loop l = ae::adopt(&host);  // declared first, so it goes last
    CHECK(l.backend() == "libuv");

    int p[2];
    REQUIRE(::pipe(p) == 0);
    ae::fd rd(p[0]), wr(p[1]);

    ae::timer t, guard;
    ae::io in;
    ae::signal s;
    ae::async a;
    ae::idle i;
    auto stop_all = [&] {
      t.stop();
      guard.stop();
      in.stop();
      s.stop();
      a.stop();
      i.stop();
    };
    auto maybe_done = [&] {
      if (timer_fired && io_fired && signal_fired && async_fired && idle_fired) stop_all();
    };

    t = ae::timer(5ms, [&] {
      timer_fired = true;
      CHECK(::write(wr.get(), "x", 1) == 1);
      maybe_done();
    }, l);
    // The io watcher stays until everything fired: it is what keeps the host's loop running
    // while the other thread's send is on its way (an ae::async alone does not keep it alive).
    in = ae::io(rd.get(), ae::poll::read, [&] {
      char c;
      CHECK(::read(rd.get(), &c, 1) == 1);
      io_fired = true;
      maybe_done();
    }, l);
    s = ae::signal(SIGUSR1, [&] {
      signal_fired = true;
      maybe_done();
    }, l);
    a = ae::async([&] {
      async_fired = true;
      maybe_done();
    }, l);
    i = ae::idle([&] {
      // Stopping itself frees this closure: read what is needed afterwards first.
      auto* done = &maybe_done;
      idle_fired = true;
      i.stop();
      (*done)();
    }, l);
    guard = ae::timer(20s, [&] {
      gave_up = true;
      stop_all();
    }, l);

    ::raise(SIGUSR1);
    std::thread sender([&] { a.send(); });
    uv_run(&host, UV_RUN_DEFAULT);  // returns once nothing of ours is active
    sender.join();

    CHECK_FALSE(gave_up);
    CHECK(timer_fired);
    CHECK(io_fired);
    CHECK(signal_fired);
    CHECK(async_fired);
    CHECK(idle_fired);
  }

  // Everything of ours is gone: only close callbacks may be left, and the loop ends by itself.
  CHECK(uv_run(&host, UV_RUN_DEFAULT) == 0);
  CHECK(uv_loop_close(&host) == 0);

  struct sigaction after {};
  REQUIRE(::sigaction(SIGUSR1, nullptr, &after) == 0);
  CHECK(same_disposition(before, after));
}

TEST_CASE("adopt/libuv_default_loop_runs_in_host_uv_run") {
  // ANYEVENT_BACKEND=libuv (set by meson): ae's default loop wraps uv_default_loop().
  REQUIRE(ae::default_loop().backend() == "libuv");
  bool fired = false;
  ae::timer t(2ms, [&] { fired = true; });
  uv_run(uv_default_loop(), UV_RUN_DEFAULT);
  CHECK(fired);
}
