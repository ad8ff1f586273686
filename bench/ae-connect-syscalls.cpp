// ae-connect-syscalls: issue 4's bar — a tcp_connect + accept + close cycle on the loop
// ANYEVENT_BACKEND (+ ANYEVENT_POLL_METHOD) selects costs no more syscalls than the same
// cycle written by hand in C with non-blocking sockets. Prints the syscalls per cycle of
// each side by name; exits 1 when anyevent needs more than the hand-written version.
//
//   ae-connect-syscalls [--strace PATH] [--cycles N]    count (exit 77: no strace here)
//   ae-connect-syscalls --no-strace [--cycles N]        cycles per second, information only
//
// 1. One cycle: connect a new socket to a listening one on 127.0.0.1, accept it, close both.
//    The next cycle starts once the connect and the accept of the previous one were both
//    reported. The listening socket and the loop (or epoll set) live across cycles.
// 2. Counting works as in ae-budget: this program runs again under `strace -f` and writes
//    markers (write(-1, "@@ae-budget begin NAME") fails with EBADF and costs nothing else)
//    around each measured phase; the parent counts what strace logged between them. Every
//    side runs warm-up cycles first, so only the steady state is counted.
// 3. The bar is the hand-written version on the same kernel interface: raw epoll for the
//    built-in loop's epoll variant and for the library backends (all use epoll on Linux),
//    raw poll(2) for ANYEVENT_POLL_METHOD=poll (DESIGN §7 compares that variant with a raw
//    poll(2) loop). Both raw versions are always counted and printed.
// 4. A wedged cycle must not hang the test: the measured child arms alarm() before it
//    starts, outside every marker.
#include "strace_phases.hpp"

#include <anyevent/fd.hpp>
#include <anyevent/loop.hpp>
#include <anyevent/socket.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>

#ifndef AE_BENCH_MODULE_PATH
#define AE_BENCH_MODULE_PATH ""
#endif

namespace ae::bench {
namespace {

constexpr int warmup_cycles = 20;
constexpr int default_cycles = 200;

[[noreturn]] void fail(const std::string& what) { throw std::runtime_error(what); }

std::string errno_text(const char* call) { return std::string(call) + ": " + std::strerror(errno); }

void marker(const char* what, const char* phase) {
  char b[96];
  const int len = std::snprintf(b, sizeof b, "@@ae-budget %s %s", what, phase);
  [[maybe_unused]] long r = ::syscall(SYS_write, -1, b, len);
}

// ---- side "ae": tcp_server + tcp_connect on the default loop ----

class ae_side {
 public:
  ae_side() {
    server_ = ae::tcp_server(
        "127.0.0.1", "0", [this](ae::fd, std::string, std::uint16_t) { ++accepted_; },
        [this](int, std::string, std::uint16_t port) {
          port_ = std::to_string(port);
          return 0;
        });
  }

  /// One cycle (note 1): both descriptors are ae::fd parameters, closed as the callbacks return.
  void cycle() {
    const long accepted = accepted_ + 1;
    bool connected = false;
    auto g = ae::tcp_connect("127.0.0.1", port_, [&](std::error_code ec, ae::fd) {
      if (ec) fail("ae: tcp_connect: " + ec.message());
      connected = true;
    });
    while (!connected || accepted_ < accepted) ae::default_loop().run_once();
  }

 private:
  std::string port_;
  long accepted_ = 0;
  ae::guard server_;
};

// ---- the hand-written versions: what a careful C programmer writes ----

/// A non-blocking listening socket on 127.0.0.1, an ephemeral port; set up once.
struct raw_listener {
  int fd = -1;
  sockaddr_in addr{};

  raw_listener() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) fail(errno_text("socket"));
    const int one = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<::sockaddr*>(&addr), sizeof addr) < 0 ||
        ::getsockname(fd, reinterpret_cast<::sockaddr*>(&addr), &len) < 0 || ::listen(fd, 128) < 0)
      fail(errno_text("listen on 127.0.0.1"));
  }
  ~raw_listener() { ::close(fd); }
  raw_listener(const raw_listener&) = delete;
  raw_listener& operator=(const raw_listener&) = delete;

  /// socket + connect: the connecting descriptor, and whether connect completed at once.
  std::pair<int, bool> start_connect() const {
    // syscall: socket(SOCK_NONBLOCK | SOCK_CLOEXEC) — flags at creation, no fcntl.
    const int c = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c < 0) fail(errno_text("socket"));
    // syscall: connect — EINPROGRESS on loopback TCP (0 would mean done already).
    if (::connect(c, reinterpret_cast<const ::sockaddr*>(&addr), sizeof addr) == 0) return {c, true};
    if (errno != EINPROGRESS && errno != EINTR) fail(errno_text("connect"));
    return {c, false};
  }

  /// The listening socket is readable: accept until the kernel has none left, as a real server
  /// does (one wakeup drains the queue), closing each connection. Returns how many.
  int accept_all() const {
    int n = 0;
    for (;;) {
      sockaddr_storage peer;
      socklen_t len = sizeof peer;
      // syscall: accept4 — the connection, then EAGAIN which ends the drain.
      const int s = ::accept4(fd, reinterpret_cast<::sockaddr*>(&peer), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (s < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return n;
        if (errno == EINTR || errno == ECONNABORTED) continue;
        fail(errno_text("accept4"));
      }
      // syscall: close — the accepted connection.
      ::close(s);
      ++n;
    }
  }
};

/// Whether the connect the writable socket reported is done (it is: writable means done);
/// throws if it failed.
bool connect_done(int c) {
  int err = 0;
  socklen_t len = sizeof err;
  // syscall: getsockopt(SO_ERROR) — writable means done, not connected (cr.yp.to/docs/connect.html).
  if (::getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len) < 0) err = errno;
  if (err == EINPROGRESS || err == EALREADY || err == EINTR) return false;
  if (err) fail(std::string("connect: ") + std::strerror(err));
  return true;
}

class raw_epoll_side {
 public:
  raw_epoll_side() {
    ep_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (ep_ < 0) fail(errno_text("epoll_create1"));
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = lst_.fd;
    if (::epoll_ctl(ep_, EPOLL_CTL_ADD, lst_.fd, &ev) < 0) fail(errno_text("epoll_ctl"));  // once
  }
  ~raw_epoll_side() { ::close(ep_); }
  raw_epoll_side(const raw_epoll_side&) = delete;
  raw_epoll_side& operator=(const raw_epoll_side&) = delete;

  void cycle() {
    auto [c, connected] = lst_.start_connect();
    if (connected) {
      ::close(c);
    } else {
      epoll_event ev{};
      ev.events = EPOLLOUT;
      ev.data.fd = c;
      // syscall: epoll_ctl ADD — the connecting socket, for EPOLLOUT.
      if (::epoll_ctl(ep_, EPOLL_CTL_ADD, c, &ev) < 0) fail(errno_text("epoll_ctl"));
    }
    bool accepted = false;
    while (!connected || !accepted) {
      epoll_event evs[8];
      // syscall: epoll_wait — on loopback both sockets are ready by now: one wait.
      const int n = ::epoll_wait(ep_, evs, 8, -1);
      if (n < 0 && errno != EINTR) fail(errno_text("epoll_wait"));
      for (int i = 0; i < n; ++i) {
        if (evs[i].data.fd == lst_.fd) {
          if (lst_.accept_all() > 0) accepted = true;
        } else if (evs[i].data.fd == c && !connected && connect_done(c)) {
          connected = true;
          // syscall: close — no EPOLL_CTL_DEL first: the last close of a file leaves the epoll
          // set by itself, and this descriptor was never duplicated.
          ::close(c);
        }
      }
    }
  }

 private:
  raw_listener lst_;
  int ep_ = -1;
};

class raw_poll_side {
 public:
  void cycle() {
    auto [c, connected] = lst_.start_connect();
    if (connected) ::close(c);
    // poll(2) has no registration: the array is the interest set, rebuilt for free.
    pollfd pfds[2] = {{lst_.fd, POLLIN, 0}, {connected ? -1 : c, POLLOUT, 0}};
    bool accepted = false;
    while (!connected || !accepted) {
      // syscall: poll — both sockets are ready by now on loopback: one call.
      const int n = ::poll(pfds, 2, -1);
      if (n < 0 && errno != EINTR) fail(errno_text("poll"));
      if (n <= 0) continue;
      if (pfds[0].revents && lst_.accept_all() > 0) accepted = true;
      if (pfds[1].fd >= 0 && pfds[1].revents && connect_done(c)) {
        connected = true;
        ::close(c);  // syscall: close
        pfds[1].fd = -1;
      }
    }
  }

 private:
  raw_listener lst_;
};

// ---- the measured child (note 2) ----

template <class Side>
void counted_phase(Side& side, const char* name, int cycles) {
  for (int i = 0; i < warmup_cycles; ++i) side.cycle();
  marker("begin", name);
  for (int i = 0; i < cycles; ++i) side.cycle();
  marker("end", name);
}

int measured_child(int cycles) {
  ::alarm(300);  // note 4
  {
    ae_side ae;
    counted_phase(ae, "ae", cycles);
  }
  {
    raw_epoll_side raw;
    counted_phase(raw, "raw-epoll", cycles);
  }
  {
    raw_poll_side raw;
    counted_phase(raw, "raw-poll", cycles);
  }
  return 0;
}

// ---- counting ----

using ae_bench::parse_strace;
using ae_bench::phase_count;

void print_side(const char* name, const phase_count& pc, int cycles, const char* note) {
  std::string names;
  char b[64];
  for (const auto& [n, c] : pc.by_name) {
    std::snprintf(b, sizeof b, " %s=%.2f", n.c_str(), static_cast<double>(c) / cycles);
    names += b;
  }
  std::printf("  %-10s %7.2f  %s%s\n", name, static_cast<double>(pc.total) / cycles, note, names.c_str());
}

int count_syscalls(const char* strace, int cycles, bool posix_poll) {
  if (::access(strace, X_OK) != 0) {
    std::printf("ae-connect-syscalls: skipped: no strace at %s (give --strace PATH)\n", strace);
    return 77;
  }
  char log[] = "/tmp/ae-connect-strace-XXXXXX";
  const int lfd = ::mkstemp(log);
  if (lfd < 0) fail(errno_text("mkstemp"));
  ::close(lfd);
  char self[4096];
  const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) fail(errno_text("readlink /proc/self/exe"));
  self[n] = 0;
  const std::string cycles_arg = std::to_string(cycles);
  std::fflush(stdout);
  const pid_t pid = ::fork();
  if (pid < 0) fail(errno_text("fork"));
  if (pid == 0) {
    ::execl(strace, strace, "-f", "-qq", "-s", "128", "-o", log, self, "--phase", "count", "--cycles",
            cycles_arg.c_str(), static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  bool empty = true;
  auto phases = parse_strace(log, &empty);
  ::unlink(log);
  if (empty) {
    std::puts("ae-connect-syscalls: skipped: strace traced nothing (is ptrace allowed here?)");
    return 77;
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || phases.size() != 3) {
    std::printf("ae-connect-syscalls: the traced run failed (status %d)\n",
                WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status));
    return 2;
  }
  const char* bar = posix_poll ? "raw-poll" : "raw-epoll";
  std::printf("syscalls per cycle (strace -f, %d cycles per side after %d warm-up):\n", cycles, warmup_cycles);
  print_side("ae", phases["ae"], cycles, "");
  print_side("raw-epoll", phases["raw-epoll"], cycles, posix_poll ? "(info)" : "(bar) ");
  print_side("raw-poll", phases["raw-poll"], cycles, posix_poll ? "(bar) " : "(info)");
  const long ae = phases["ae"].total, raw = phases[bar].total;
  const bool ok = ae <= raw;
  std::printf("ratio ae / %s: %.3f  %s (bar: ae <= %s)\n", bar, raw ? static_cast<double>(ae) / raw : 0.0,
              ok ? "PASS" : "FAIL", bar);
  return ok ? 0 : 1;
}

// ---- --no-strace: wall clock, information only ----

template <class Side>
double cycles_per_second(Side& side, int cycles) {
  for (int i = 0; i < warmup_cycles; ++i) side.cycle();
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < cycles; ++i) side.cycle();
  const std::chrono::duration<double> d = std::chrono::steady_clock::now() - t0;
  return cycles / d.count();
}

int time_cycles(int cycles) {
  std::printf("cycles per second (wall clock, %d cycles per side; information only):\n", cycles);
  {
    ae_side s;
    std::printf("  %-10s %10.0f\n", "ae", cycles_per_second(s, cycles));
  }
  {
    raw_epoll_side s;
    std::printf("  %-10s %10.0f\n", "raw-epoll", cycles_per_second(s, cycles));
  }
  {
    raw_poll_side s;
    std::printf("  %-10s %10.0f\n", "raw-poll", cycles_per_second(s, cycles));
  }
  return 0;
}

int main_impl(int argc, char** argv) {
  if (!::getenv("ANYEVENT_BACKEND_PATH") && *AE_BENCH_MODULE_PATH)
    ::setenv("ANYEVENT_BACKEND_PATH", AE_BENCH_MODULE_PATH, 1);
  const char* strace = "/usr/bin/strace";
  bool use_strace = true, child = false;
  int cycles = default_cycles;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--help" || a == "-h") {
      std::puts("usage: ae-connect-syscalls [--strace PATH | --no-strace] [--cycles N]\n"
                "Counts the syscalls of a tcp_connect + accept + close cycle on the backend\n"
                "ANYEVENT_BACKEND selects and of the same cycle hand-written with epoll and poll(2).\n"
                "Exit status 1 when anyevent needs more, 77 when strace is not available.");
      return 0;
    }
    if (a == "--phase" && i + 1 < argc && std::string(argv[i + 1]) == "count") {
      child = true;
      ++i;
    } else if (a == "--strace" && i + 1 < argc) {
      strace = argv[++i];
    } else if (a == "--no-strace") {
      use_strace = false;
    } else if (a == "--cycles" && i + 1 < argc) {
      cycles = std::atoi(argv[++i]);
      if (cycles <= 0) {
        std::fprintf(stderr, "ae-connect-syscalls: --cycles needs a positive number\n");
        return 2;
      }
    } else {
      std::fprintf(stderr, "ae-connect-syscalls: unknown argument '%s' (try --help)\n", a.c_str());
      return 2;
    }
  }
  if (child) return measured_child(cycles);

  std::string name, version;
  {
    auto l = ae::loop::create();
    name = l.backend();
    for (const auto& b : ae::describe_backends())
      if (b.name == name) version = b.version;
  }
  const bool posix_poll = name == "poll" && version.find("poll(2)") != std::string::npos;
  std::printf("ae-connect-syscalls: backend %s (%s)\n", name.c_str(), version.c_str());
  return use_strace ? count_syscalls(strace, cycles, posix_poll) : time_cycles(cycles);
}

}  // namespace
}  // namespace ae::bench

int main(int argc, char** argv) {
  try {
    return ae::bench::main_impl(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ae-connect-syscalls: %s\n", e.what());
    return 2;
  }
}
