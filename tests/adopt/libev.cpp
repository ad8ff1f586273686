// A host program that runs libev itself: ae watchers fire inside the host's ev_run, and a
// guest leaves no trace (DESIGN §2: ev_run returns by itself once every ae watcher is gone,
// the signal disposition is restored, the host may destroy its loop).
#include <doctest/doctest.h>

#include <anyevent/async.hpp>
#include <anyevent/backends/libev.hpp>
#include <anyevent/child.hpp>
#include <anyevent/fd.hpp>
#include <anyevent/idle.hpp>
#include <anyevent/io.hpp>
#include <anyevent/signal.hpp>
#include <anyevent/timer.hpp>

#include <csignal>
#include <sys/wait.h>
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

/// The host's own watcher: ends a runaway ev_run if the code under test hangs.
struct host_guard {
  struct ev_loop* loop;
  ev_timer t;
  bool fired = false;
  host_guard(struct ev_loop* l, double seconds) : loop(l) {
    ev_timer_init(&t, [](struct ev_loop* l, ev_timer* w, int) {
      static_cast<host_guard*>(w->data)->fired = true;
      ev_break(l, EVBREAK_ALL);
    }, seconds, 0.);
    t.data = this;
    ev_timer_start(loop, &t);
    ev_unref(loop);  // must not keep the loop alive itself
  }
  ~host_guard() {
    ev_ref(loop);
    ev_timer_stop(loop, &t);
  }
};

}  // namespace

TEST_CASE("adopt/libev_host_runs_its_own_loop") {
  struct sigaction before {};
  REQUIRE(::sigaction(SIGUSR1, nullptr, &before) == 0);

  struct ev_loop* host = ev_loop_new(EVFLAG_AUTO);
  REQUIRE(host != nullptr);

  bool timer_fired = false, io_fired = false, signal_fired = false, async_fired = false, idle_fired = false;
  bool gave_up = false;
  {
    ae::loop l = ae::adopt(host);  // declared first, so it goes last
    CHECK(l.backend() == "libev");

    int p[2];
    REQUIRE(::pipe(p) == 0);
    ae::fd rd(p[0]), wr(p[1]);

    ae::timer t, guard;
    ae::io in;
    ae::signal s;
    ae::async a;
    ae::idle i;
    std::thread sender;
    auto stop_all = [&] {
      t.stop();
      guard.stop();
      in.stop();
      s.stop();
      a.stop();
      i.stop();
    };
    auto all_fired = [&] { return timer_fired && io_fired && signal_fired && async_fired && idle_fired; };
    // Last in each callback: stopping a watcher destroys its callback, captures included.
    auto maybe_done = [&] {
      if (all_fired()) stop_all();
    };

    // A chain, each link inside the host's ev_run: timer → io → signal → async from a thread.
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
      if (!io_fired) ::raise(SIGUSR1);
      io_fired = true;
      maybe_done();
    }, l);
    s = ae::signal(SIGUSR1, [&] {
      signal_fired = true;
      if (!sender.joinable()) sender = std::thread([&] { a.send(); });
      maybe_done();
    }, l);
    a = ae::async([&] {
      if (sender.joinable()) sender.join();  // send() must be over before `a` may go
      async_fired = true;
      maybe_done();
    }, l);
    i = ae::idle([&] {
      idle_fired = true;
      if (all_fired()) stop_all();
      else i.stop();
    }, l);
    guard = ae::timer(20s, [&] {
      gave_up = true;
      stop_all();
    }, l);

    host_guard hang(host, 30.);
    ev_run(host, 0);  // returns once nothing of ours is active
    CHECK_FALSE(hang.fired);
    if (sender.joinable()) sender.join();

    CHECK_FALSE(gave_up);
    CHECK(timer_fired);
    CHECK(io_fired);
    CHECK(signal_fired);
    CHECK(async_fired);
    CHECK(idle_fired);

    // The ae::loop is still here, with nothing active: the host's loop ends by itself.
    CHECK(ev_run(host, 0) == 0);
  }

  // The ae::loop is gone too: nothing of ours is registered, and the host may go on or end.
  CHECK(ev_run(host, EVRUN_NOWAIT) == 0);
  ev_loop_destroy(host);

  struct sigaction after {};
  REQUIRE(::sigaction(SIGUSR1, nullptr, &after) == 0);
  CHECK(same_disposition(before, after));
}

TEST_CASE("adopt/libev_callback_exception_ends_host_run") {
  struct ev_loop* host = ev_loop_new(EVFLAG_AUTO);
  REQUIRE(host != nullptr);
  {
    ae::loop l = ae::adopt(host);
    bool other_fired = false;
    ae::timer boom(1ms, [] { throw std::runtime_error("boom"); }, l);
    ae::timer later(200ms, [&] { other_fired = true; }, l);
    host_guard hang(host, 30.);
    ev_run(host, 0);  // the core stops the native loop when a callback throws
    CHECK_FALSE(hang.fired);
    CHECK_FALSE(other_fired);
    CHECK_THROWS_AS(l.run_nowait(), std::runtime_error);  // rethrown by the next ae call
  }
  ev_loop_destroy(host);
}

TEST_CASE("adopt/libev_fd_closed_under_a_new_watcher") {
  // libev registers fds lazily and abort()s when epoll_ctl then answers EBADF; closing an fd
  // right after watching it must instead report an error to the watcher.
  struct ev_loop* host = ev_loop_new(EVFLAG_AUTO);
  REQUIRE(host != nullptr);
  {
    ae::loop l = ae::adopt(host);
    int p[2];
    REQUIRE(::pipe(p) == 0);
    ae::poll got{};
    ae::io w(p[0], ae::poll::read, [&](ae::poll e) {
      got = e;
      w.stop();
    }, l);
    ::close(p[0]);
    ::close(p[1]);
    host_guard hang(host, 30.);
    ev_run(host, 0);
    CHECK_FALSE(hang.fired);
    CHECK(got == ae::poll::read);  // reported as readiness: the next read() sees EBADF
  }
  ev_loop_destroy(host);
}

TEST_CASE("adopt/libev_default_loop_runs_in_host_ev_run") {
  // ANYEVENT_BACKEND=libev (set by meson): ae's default loop wraps ev_default_loop().
  REQUIRE(ae::default_loop().backend() == "libev");
  bool fired = false;
  ae::timer t(2ms, [&] { fired = true; });
  host_guard hang(ev_default_loop(0), 30.);
  ev_run(ev_default_loop(0), 0);
  CHECK_FALSE(hang.fired);
  CHECK(fired);
}

TEST_CASE("adopt/libev_default_loop_leaves_children_alone") {
  // libev's default loop reaps every child on SIGCHLD; ae made that loop, so libev's reaper
  // is not installed: ae::child gets the status, and a child nobody watches stays unreaped.
  REQUIRE(ae::default_loop().backend() == "libev");
  const pid_t other = ::fork();
  REQUIRE(other >= 0);
  if (other == 0) ::_exit(3);
  const pid_t watched = ::fork();
  REQUIRE(watched >= 0);
  if (watched == 0) ::_exit(7);

  int status = -1;
  ae::child c(watched, [&](pid_t, int st) { status = st; });
  host_guard hang(ev_default_loop(0), 30.);
  ev_run(ev_default_loop(0), 0);
  CHECK_FALSE(hang.fired);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 7);

  int other_status = -1;
  CHECK(::waitpid(other, &other_status, 0) == other);  // still ours to reap
  CHECK(WEXITSTATUS(other_status) == 3);
}
