// Helpers shared by the handle scenarios: socket pairs, bounded runs of the default loop,
// descriptor counts, a recorder for a handle's callbacks, a loop-driven reader for the peer
// side, and ports that refuse or hang. Every wait is bounded, so a broken backend fails a
// check instead of hanging the run; nothing here names a backend (each program runs once
// per column).
#pragma once

#include <anyevent/error.hpp>
#include <anyevent/handle.hpp>
#include <anyevent/io.hpp>
#include <anyevent/socket.hpp>
#include <anyevent/timer.hpp>

#include <doctest/doctest.h>

#include "../net/tcp_support.hpp"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <system_error>
#include <vector>

namespace handle_test {

using namespace std::chrono_literals;

/// How long anything that should happen "soon" may take before the test calls it a failure.
inline constexpr std::chrono::milliseconds patience = 10s;

/// Runs the default loop until `done()` holds or `limit` passed; returns done().
inline bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = patience) {
  auto& l = ae::default_loop();
  if (done()) return true;
  l.now_update();
  bool expired = false;
  ae::timer t(limit, [&] { expired = true; }, l);
  while (!done() && !expired) l.run_once();
  return done();
}

/// Runs the default loop for about `d`, whatever happens meanwhile.
inline void run_for(std::chrono::milliseconds d) {
  ae::default_loop().now_update();
  bool expired = false;
  ae::timer t(d, [&] { expired = true; });
  while (!expired) ae::default_loop().run_once();
}

/// The default loop's cached time (what the handle's timeouts are measured against).
inline ae::time_point loop_now() { return ae::default_loop().now(); }

struct stream_pair {
  ae::fd a, b;
};

/// A connected AF_UNIX stream socket pair, non-blocking and close-on-exec.
inline stream_pair make_socketpair() {
  int s[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, s) == 0);
  return {ae::fd(s[0]), ae::fd(s[1])};
}

/// A pipe, both ends non-blocking and close-on-exec: a = read end, b = write end.
inline stream_pair make_pipe() {
  int p[2];
  REQUIRE(::pipe2(p, O_NONBLOCK | O_CLOEXEC) == 0);
  return {ae::fd(p[0]), ae::fd(p[1])};
}

inline long open_fds() {
  long n = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

/// Whether descriptor number `n` is open in this process.
inline bool fd_open(int n) { return n >= 0 && ::fcntl(n, F_GETFD) != -1; }

/// Bytes the kernel holds for reading on `fd` (that nobody has read yet); -1 on error.
inline int unread_bytes(int fd) {
  int n = -1;
  if (::ioctl(fd, FIONREAD, &n) != 0) return -1;
  return n;
}

/// Whether the handle has taken everything the peer sent out of the kernel.
inline bool all_read(ae::handle& h) { return h.fd() >= 0 && unread_bytes(h.fd()) == 0; }

/// Reads whatever is available on a non-blocking fd (no loop involved).
inline std::string read_available(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

/// Writes all of `s` to a descriptor (blocking the test, not the loop, is fine here: the
/// peer's socket buffer holds these small test messages).
inline bool write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    const ssize_t n = ::send(fd, s.data(), s.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    s.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

/// `n` bytes of a pattern that does not repeat with a short period (so a lost, repeated or
/// reordered block shows), every byte value included.
inline std::string pattern(std::size_t n, unsigned seed = 1) {
  std::string s(n, '\0');
  std::uint32_t x = seed * 2654435761u + 12345u;
  for (std::size_t i = 0; i < n; ++i) {
    x = x * 1103515245u + 12345u;
    s[i] = static_cast<char>((x >> 16) ^ (i >> 10));
  }
  return s;
}

/// Everything a handle reported through on_error, on_eof and friends.
struct recorder {
  struct error_entry {
    bool fatal;
    std::error_code ec;
    std::string message;
    bool destroyed_inside;  // h.destroyed() while on_error ran
  };
  std::vector<error_entry> errors;
  int eofs = 0;
  int drains = 0;

  ae::error_callback on_error() {
    return [this](ae::handle& h, bool fatal, std::error_code ec, std::string_view m) {
      errors.push_back({fatal, ec, std::string(m), h.destroyed()});
    };
  }
  ae::handle_callback on_eof() {
    return [this](ae::handle&) { ++eofs; };
  }
  ae::handle_callback on_drain() {
    return [this](ae::handle&) { ++drains; };
  }
};

/// Reads a descriptor on the default loop into `data` until EOF or an error, `limit` bytes
/// per callback (0: as much as there is), so a slow reader can be made.
class sink {
 public:
  explicit sink(int fd, std::size_t limit = 0) : fd_(fd), limit_(limit) { start(); }
  void start() {
    if (!eof && !w_.active()) w_ = ae::io(fd_, ae::poll::read, [this] { on_readable(); });
  }
  void stop() { w_.stop(); }
  std::string data;
  bool eof = false;
  int error = 0;

 private:
  void on_readable() {
    char buf[65536];
    std::size_t budget = limit_ ? limit_ : SIZE_MAX;
    while (budget > 0) {
      const ssize_t n = ::read(fd_, buf, std::min(sizeof buf, budget));
      if (n > 0) {
        data.append(buf, static_cast<std::size_t>(n));
        budget -= static_cast<std::size_t>(n);
        continue;
      }
      if (n == 0) {
        eof = true;
      } else if (errno != EAGAIN && errno != EINTR) {
        error = errno;
        eof = true;
      }
      break;
    }
    if (eof) w_.stop();
  }
  int fd_;
  std::size_t limit_;
  ae::io w_;
};

/// Whether the peer at `fd` has seen end-of-file (data before it is read and dropped).
inline bool peer_sees_eof(int fd) {
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) return true;
    if (n < 0) return errno != EAGAIN && errno != EINTR;  // ECONNRESET counts as the end too
  }
}

// Ports that refuse or hang, local_port() and temp_dir: the socket tests' own.
using net_test::hanging_port;
using net_test::local_port;
using net_test::refusing_socket;
using net_test::temp_dir;

/// For the scope of a test: SIGPIPE at its default disposition (it would kill the process)
/// but blocked, so a SIGPIPE raised by a write stays pending where raised() sees it instead
/// of killing the test program. The old disposition and mask come back afterwards, with
/// any pending SIGPIPE taken away first.
class sigpipe_watch {
 public:
  sigpipe_watch() {
    struct sigaction dfl {};
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    REQUIRE(::sigaction(SIGPIPE, &dfl, &old_action_) == 0);
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    REQUIRE(::pthread_sigmask(SIG_BLOCK, &s, &old_mask_) == 0);
    clear();
  }
  ~sigpipe_watch() {
    clear();
    ::pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
    ::sigaction(SIGPIPE, &old_action_, nullptr);
  }
  sigpipe_watch(const sigpipe_watch&) = delete;
  sigpipe_watch& operator=(const sigpipe_watch&) = delete;

  /// Whether a SIGPIPE was raised (and is pending) since the watch began.
  bool raised() const {
    sigset_t p;
    sigemptyset(&p);
    ::sigpending(&p);
    return sigismember(&p, SIGPIPE) == 1;
  }
  /// Whether SIGPIPE is still at its default disposition (nobody ignored or caught it).
  bool disposition_default() const {
    struct sigaction now {};
    ::sigaction(SIGPIPE, nullptr, &now);
    return now.sa_handler == SIG_DFL;
  }

 private:
  static void clear() {
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    const timespec zero{};
    while (::sigtimedwait(&s, nullptr, &zero) == SIGPIPE) {
    }
  }
  struct sigaction old_action_ {};
  sigset_t old_mask_{};
};

}  // namespace handle_test
