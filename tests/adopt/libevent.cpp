// A host that runs its own libevent event_base adopts it: ae watchers fire inside the host's
// event_base_dispatch, leave nothing behind, and the module's emulations (idle, the unref'd
// wakeup, pollability checks) hold. Links libevent and libanyevent only (DESIGN §8).
#include <anyevent/anyevent.hpp>
#include <anyevent/backends/libevent.hpp>

#include <doctest/doctest.h>

#include <event2/event.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <sys/wait.h>
#include <system_error>
#include <thread>
#include <unistd.h>

using namespace std::chrono_literals;

namespace {

/// Counts what libevent writes to its log, which without a callback goes to stderr: the
/// module must make libevent write nothing.
std::atomic<int> libevent_messages{0};

struct log_capture {
  log_capture() {
    libevent_messages = 0;
    ::event_set_log_callback([](int, const char*) { ++libevent_messages; });
  }
  ~log_capture() { ::event_set_log_callback(nullptr); }
};

struct pipe_pair {
  ae::fd r, w;
};

pipe_pair make_pipe() {
  int p[2];
  REQUIRE(::pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
  return {ae::fd(p[0]), ae::fd(p[1])};
}

bool put_byte(int fd) {
  const char c = 'x';
  return ::write(fd, &c, 1) == 1;
}

void drain(int fd) {
  char buf[256];
  while (::read(fd, buf, sizeof buf) > 0) {
  }
}

/// A host event that ends a hung dispatch, so that a failure is a failed check.
struct host_guard {
  event* ev;
  bool fired = false;
  explicit host_guard(event_base* base, std::chrono::seconds after = 20s) {
    ev = ::event_new(base, -1, 0, [](evutil_socket_t, short, void* p) {
      auto* g = static_cast<host_guard*>(p);
      g->fired = true;
      ::event_base_loopbreak(::event_get_base(g->ev));
    }, this);
    const timeval tv{static_cast<time_t>(after.count()), 0};
    ::event_add(ev, &tv);
  }
  ~host_guard() { ::event_free(ev); }
  void cancel() { ::event_del(ev); }
};

}  // namespace

TEST_CASE("adopt/libevent/watchers_fire_inside_host_dispatch") {
  log_capture logs;
  event_base* base = ::event_base_new();
  REQUIRE(base);
  {
    ae::loop l = ae::adopt(base);
    CHECK(l.backend() == "libevent");
    auto p = make_pipe();
    bool inside = false;
    bool timer_in = false, io_in = false, signal_in = false, async_in = false, idle_in = false;
    ae::timer t;
    ae::io w;
    ae::signal s;
    ae::async a;
    ae::idle i;
    host_guard guard(base);
    // Once every kind has fired, drop every ae watcher: the host's dispatch must then find
    // nothing left and return by itself.
    auto maybe_done = [&] {
      if (!(timer_in && io_in && signal_in && async_in && idle_in)) return;
      t.stop();
      w.stop();
      s.stop();
      a.stop();
      i.stop();
      guard.cancel();
    };
    t = ae::timer(5ms, [&] {
      timer_in = inside;
      REQUIRE(put_byte(p.w.get()));
      maybe_done();
    }, l);
    w = ae::io(p.r.get(), ae::poll::read, [&] {
      drain(p.r.get());
      io_in = inside;
      maybe_done();
    }, l);
    s = ae::signal(SIGUSR1, [&] {
      signal_in = inside;
      maybe_done();
    }, l);
    a = ae::async([&] {
      async_in = inside;
      maybe_done();
    }, l);
    i = ae::idle([&] {
      idle_in = inside;
      maybe_done();
    }, l);
    ::raise(SIGUSR1);  // before the host runs: delivered in its first iteration, not lost
    ::alarm(60);       // last resort if dispatch never returns
    inside = true;
    std::thread sender([&] { a.send(); });
    const int rc = ::event_base_dispatch(base);
    inside = false;
    sender.join();
    ::alarm(0);
    CHECK_FALSE(guard.fired);
    CHECK(rc == 1);  // 1: returned because no events were left
    CHECK(timer_in);
    CHECK(io_in);
    CHECK(signal_in);
    CHECK(async_in);
    CHECK(idle_in);
    CHECK(::event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED | EVENT_BASE_COUNT_ACTIVE) == 0);
  }
  // The ae::loop is gone: nothing of ours is left in the base, which frees cleanly.
  CHECK(::event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED | EVENT_BASE_COUNT_ACTIVE) == 0);
  ::event_base_free(base);
  CHECK(libevent_messages == 0);
}

TEST_CASE("adopt/libevent/wakeup_does_not_keep_dispatch_running") {
  event_base* base = ::event_base_new();
  REQUIRE(base);
  {
    ae::loop l = ae::adopt(base);
    int asyncs = 0, signals = 0;
    auto both = [&] {
      if (asyncs && signals) ::event_base_loopbreak(base);
    };
    ae::async a([&] { ++asyncs; both(); }, l);
    ae::signal s(SIGUSR2, [&] { ++signals; both(); }, l);
    // Only the unref'd wakeup is ours in the base: the host's dispatch returns at once.
    ::alarm(60);
    CHECK(::event_base_dispatch(base) == 1);
    CHECK(asyncs == 0);

    // While the host runs for its own reasons (here a guard event), sends and signals
    // are delivered inside its dispatch.
    a.send();
    ::raise(SIGUSR2);
    host_guard guard(base);
    CHECK(::event_base_dispatch(base) == 0);  // ended by loopbreak
    ::alarm(0);
    CHECK_FALSE(guard.fired);
    CHECK(asyncs == 1);
    CHECK(signals == 1);
  }
  CHECK(::event_base_get_num_events(base, EVENT_BASE_COUNT_ADDED) == 0);
  ::event_base_free(base);
}

TEST_CASE("adopt/libevent/idle_only_in_quiet_iterations") {
  // One run_nowait() is one iteration: idle runs exactly in those where nothing else did.
  auto l = ae::loop::create("libevent");
  auto p = make_pipe();
  int idles = 0, ios = 0, timers = 0, asyncs = 0;
  ae::idle i([&] { ++idles; }, l);
  ae::io w(p.r.get(), ae::poll::read, [&] {
    ++ios;
    drain(p.r.get());
  }, l);
  ae::async a([&] { ++asyncs; }, l);
  l.run_nowait();
  CHECK(idles == 1);

  REQUIRE(put_byte(p.w.get()));
  l.run_nowait();
  CHECK(ios == 1);
  CHECK(idles == 1);
  l.run_nowait();
  CHECK(idles == 2);

  ae::timer t(0ms, [&] { ++timers; }, l);
  l.run_nowait();
  CHECK(timers == 1);
  CHECK(idles == 2);
  l.run_nowait();
  CHECK(idles == 3);

  a.send();
  l.run_nowait();
  CHECK(asyncs == 1);
  CHECK(idles == 3);
  l.run_nowait();
  CHECK(idles == 4);
}

TEST_CASE("adopt/libevent/idle_and_io_do_not_starve_each_other") {
  event_base* base = ::event_base_new();
  REQUIRE(base);
  {
    ae::loop l = ae::adopt(base);
    auto p = make_pipe();
    int idles = 0, ios = 0, writes = 0;
    ae::idle i;
    ae::io w;
    ae::timer writer;
    host_guard guard(base);
    auto maybe_done = [&] {
      if (ios < 50 || idles < 50) return;
      i.stop();
      w.stop();
      writer.stop();
      guard.cancel();
    };
    // io every millisecond while idle is always on: neither may keep the other out.
    writer = ae::timer(0ms, 1ms, [&] {
      if (put_byte(p.w.get())) ++writes;
    }, l);
    w = ae::io(p.r.get(), ae::poll::read, [&] {
      drain(p.r.get());
      ++ios;
      maybe_done();
    }, l);
    i = ae::idle([&] {
      ++idles;
      maybe_done();
    }, l);
    ::alarm(60);  // last resort if dispatch never returns
    CHECK(::event_base_dispatch(base) == 1);
    ::alarm(0);
    CHECK_FALSE(guard.fired);
    CHECK(ios >= 50);
    CHECK(idles >= 50);
  }
  ::event_base_free(base);
}

TEST_CASE("adopt/libevent/unpollable_fds_without_libevent_warnings") {
  log_capture logs;
  auto l = ae::loop::create("libevent");
  ae::fd null_fd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  ae::fd file_fd(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
  REQUIRE(null_fd);
  REQUIRE(file_fd);
  int null_calls = 0, file_calls = 0;
  {
    // epoll refuses both; POSIX poll calls them always ready, and so does every backend.
    ae::io a(null_fd.get(), ae::poll::read, [&] { ++null_calls; }, l);
    ae::io b(file_fd.get(), ae::poll::read | ae::poll::write, [&] { ++file_calls; }, l);
    for (int n = 0; n < 3; ++n) l.run_once();
  }
  CHECK(null_calls >= 2);
  CHECK(file_calls >= 2);

  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  ::close(fds[0]);
  ::close(fds[1]);
  try {
    ae::io bad(fds[0], ae::poll::read, [] {}, l);
    FAIL("a closed fd was accepted");
  } catch (const std::system_error& e) {
    CHECK(e.code().value() == EBADF);
  }
  CHECK(libevent_messages == 0);
}

TEST_CASE("adopt/libevent/rearm_in_one_iteration_keeps_the_registration") {
  auto l = ae::loop::create("libevent");
  auto p = make_pipe();
  int calls = 0;
  ae::io w;
  for (int n = 0; n < 100; ++n) {
    w.stop();
    w = ae::io(p.r.get(), ae::poll::read, [&] {
      ++calls;
      drain(p.r.get());
    }, l);
  }
  REQUIRE(put_byte(p.w.get()));
  l.run_once();
  CHECK(calls == 1);
  // A deferred deletion followed by a different mask, and a stop across an iteration.
  w.stop();
  ae::io wr(p.w.get(), ae::poll::write, [&] { ++calls; }, l);
  l.run_once();
  CHECK(calls == 2);
  wr.stop();
  REQUIRE(put_byte(p.w.get()));
  l.run_nowait();
  CHECK(calls == 2);  // nobody watches p.r any more, though its byte is there
  w = ae::io(p.r.get(), ae::poll::read, [&] {
    ++calls;
    drain(p.r.get());
  }, l);
  l.run_once();
  CHECK(calls == 3);
}

TEST_CASE("adopt/libevent/timers_never_fire_early") {
  // libevent times its events on CLOCK_MONOTONIC_COARSE; the module re-checks.
  auto l = ae::loop::create("libevent");
  int fired = 0, early = 0;
  std::vector<ae::timer> ts;
  for (int n = 1; n <= 40; ++n) {
    const auto delay = std::chrono::microseconds(250 * n);
    const auto start = l.now();
    ts.emplace_back(delay, [&, delay, start] {
      ++fired;
      if (l.now() - start < delay || ae::clock::now() - start < delay) ++early;
    }, l);
  }
  ::alarm(60);
  l.run();
  ::alarm(0);
  CHECK(fired == 40);
  CHECK(early == 0);
}

TEST_CASE("adopt/libevent/fork_child_gets_its_own_loop") {
  auto l = ae::loop::create("libevent");
  auto p = make_pipe();
  int parent_reads = 0;
  ae::io w(p.r.get(), ae::poll::read, [&] {
    ++parent_reads;
    drain(p.r.get());
  }, l);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::alarm(30);
    l.fork_child();
    int ticks = 0, asyncs = 0;
    ae::timer t(1ms, [&] { ++ticks; }, l);
    ae::async a([&] { ++asyncs; }, l);
    a.send();
    for (int n = 0; n < 1000 && (ticks == 0 || asyncs == 0); ++n) l.run_once();
    w.stop();  // our watcher of the inherited fd goes; the parent's registration must stay
    ::_exit(ticks == 1 && asyncs == 1 ? 0 : 1);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  REQUIRE(put_byte(p.w.get()));
  bool expired = false;
  ae::timer safety(10s, [&] { expired = true; }, l);
  while (parent_reads == 0 && !expired) l.run_once();
  CHECK(parent_reads == 1);
}
