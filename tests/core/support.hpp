// Helpers shared by the core scenarios: pipes, bounded waits, forking.
//
// Every wait is bounded: a hang in the code under test becomes a failed check after
// `patience`, never a stuck test run. None of these name a backend; each test runs once per
// column of the matrix (ANYEVENT_BACKEND).
#pragma once

#include <anyevent/anyevent.hpp>

#include <doctest/doctest.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <fcntl.h>
#include <mutex>
#include <sys/types.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace core_test {

using namespace std::chrono_literals;

/// How long anything that should happen "soon" may take before the test calls it a failure.
inline constexpr ae::duration patience = 10s;

struct pipe_pair {
  ae::fd r, w;
};

/// A non-blocking, close-on-exec pipe.
inline pipe_pair make_pipe() {
  int p[2];
  REQUIRE(::pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
  return {ae::fd(p[0]), ae::fd(p[1])};
}

/// Write one byte; usable inside callbacks and forked children (no doctest macro).
inline bool put_byte(int fd) {
  const char c = 'x';
  return ::write(fd, &c, 1) == 1;
}

inline void drain(int fd) {
  char buf[512];
  while (::read(fd, buf, sizeof buf) > 0) {
  }
}

/// Run `l` one iteration at a time until `done()` holds or `limit` passed (a safety timer
/// wakes the loop then). Returns done(): REQUIRE(run_until(...)).
template <class Pred>
bool run_until(ae::loop& l, Pred&& done, ae::duration limit = patience) {
  if (done()) return true;
  l.now_update();
  bool expired = false;
  ae::timer safety(limit, [&] { expired = true; }, l);
  while (!done() && !expired) l.run_once();
  return done();
}

/// l.run() with a safety timer that stops it after `limit`; false if the timer had to.
/// (The safety timer keeps the loop alive: the test must stop() the loop itself.)
inline bool run_guarded(ae::loop& l, ae::duration limit = patience) {
  l.now_update();
  bool expired = false;
  ae::timer safety(limit, [&] { expired = true; l.stop(); }, l);
  l.run();
  return !expired;
}

/// For tests of run() returning by itself, where a safety timer would keep the loop alive:
/// another thread posts l.stop() if the test is still running after `limit`.
class watchdog {
 public:
  watchdog(ae::loop& l, ae::duration limit = patience)
      : thread_([this, lp = &l, limit] {
          std::unique_lock lock(m_);
          if (!cv_.wait_for(lock, limit, [&] { return done_; })) {
            fired_ = true;
            lp->post([lp] { lp->stop(); });  // `l` outlives the watchdog (declared first)
          }
        }) {}
  ~watchdog() {
    {
      std::lock_guard lock(m_);
      done_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  watchdog(const watchdog&) = delete;
  watchdog& operator=(const watchdog&) = delete;
  bool fired() const { return fired_.load(); }

 private:
  std::mutex m_;
  std::condition_variable cv_;
  bool done_ = false;
  std::atomic<bool> fired_{false};
  std::thread thread_;
};

/// Fork a child that exits at once with `code`.
inline pid_t fork_exit(int code) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) ::_exit(code);
  return pid;
}

/// Block until `pid` has exited, without reaping it (it stays a zombie).
inline bool wait_exited_unreaped(pid_t pid) {
  siginfo_t si{};
  int r;
  do r = ::waitid(P_PID, static_cast<id_t>(pid), &si, WEXITED | WNOWAIT);
  while (r < 0 && errno == EINTR);
  return r == 0;
}

/// Reap `pid` if it is still ours (cleanup after a failed check, so later tests start clean).
inline void reap(pid_t pid) {
  int st;
  while (::waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
}

/// Heap allocations (operator new, every form) made by the process so far: alloc_counter.cpp.
long allocation_count() noexcept;

}  // namespace core_test
