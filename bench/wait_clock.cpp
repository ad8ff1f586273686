// libae-wait-clock.so: how long the kernel's waits take, anyevent's against the raw loops',
// and how long the callbacks' recv(2) and send(2) take after them.
//
//   LD_PRELOAD=./bench/libae-wait-clock.so ./bench/ae-bench io --backend poll-posix --preset full
//
// 1. Interposes poll(2), epoll_wait(2), recv(2) and send(2), times each call with
//    CLOCK_MONOTONIC and files it by side, by call, by whether it returned something (ready
//    fds; bytes) and, for poll(2), by the power of two below its number of fds. An io bench
//    re-arm round's wait returns nothing ready, its loop phase's waits do.
// 2. A wait's side is the object that called it: libanyevent (`ae`), libev, libevent, libuv,
//    or anything else (`raw`: the minimal loops compiled into ae-bench). A recv or send is
//    filed under the side of the wait before it: the bench's callbacks, which make them, are
//    the same code on every side. On the poll and poll-posix columns every side has its own
//    rows (raw-epoll and raw-poll are `raw`, raw-libev `libev`); over a library both sides
//    wait inside it, so their rows merge there.
// 3. The table is printed to stderr when the process exits; ae-bench's per-column children
//    end with _Exit, so the counters live in a shared anonymous mapping made before they fork
//    and the parent prints them all. ns/fd (poll only) divides by the fds passed: the kernel
//    visits every one of them.
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <dlfcn.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>

namespace {

constexpr int buckets = 32;  // poll: floor(log2(nfds)); the other calls: 0
constexpr int sides = 5, calls = 4;
const char* const side_names[sides] = {"raw", "ae", "libev", "libevent", "libuv"};
const char* const call_names[calls] = {"poll", "epoll_wait", "recv", "send"};
enum call_kind { call_poll, call_epoll_wait, call_recv, call_send };

struct cell {
  std::atomic<std::uint64_t> calls, ns, fds;
};
// [side (side_names)][call (call_names)][returned ready fds or bytes: 0 no, 1 yes][bucket]
using table = cell[sides][calls][2][buckets];
table* counts = nullptr;
int last_wait_side = -1;  // note 2; ae-bench's children are single-threaded

std::uint64_t now_ns() {
  timespec t;
  ::clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<std::uint64_t>(t.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(t.tv_nsec);
}

/// The side (side_names) of the object whose code is at return_address.
int caller_of(const void* return_address) {
  Dl_info info;
  if (!::dladdr(return_address, &info) || !info.dli_fname) return 0;
  const char* base = std::strrchr(info.dli_fname, '/');
  base = base ? base + 1 : info.dli_fname;
  if (std::strncmp(base, "libanyevent", 11) == 0) return 1;
  if (std::strncmp(base, "libevent", 8) == 0) return 3;  // before libev, its prefix
  if (std::strncmp(base, "libev.", 6) == 0) return 2;
  if (std::strncmp(base, "libuv", 5) == 0) return 4;
  return 0;
}

void record(int side, int call, long result, std::uint64_t fds, std::uint64_t ns) {
  if (!counts || side < 0) return;
  int b = 0;
  while (call == call_poll && b + 1 < buckets && (fds >> (b + 1)) != 0) ++b;
  cell& c = (*counts)[side][call][result > 0 ? 1 : 0][b];
  c.calls.fetch_add(1, std::memory_order_relaxed);
  c.ns.fetch_add(ns, std::memory_order_relaxed);
  c.fds.fetch_add(fds, std::memory_order_relaxed);
}

template <class F>
F next(const char* name) {
  return reinterpret_cast<F>(::dlsym(RTLD_NEXT, name));
}

__attribute__((constructor)) void start() {
  void* p = ::mmap(nullptr, sizeof(table), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (p != MAP_FAILED) counts = static_cast<table*>(p);  // zero-filled
}

__attribute__((destructor)) void report() {
  if (!counts) return;
  std::fprintf(stderr, "%-11s %-8s %-13s %-6s %10s %12s %9s\n", "call", "side", "fds", "ready", "calls", "ns/call",
               "ns/fd");
  for (int call = 0; call < calls; ++call)
    for (int b = 0; b < buckets; ++b)
      for (int ready = 0; ready < 2; ++ready)
        for (int who = 0; who < sides; ++who) {
          const cell& c = (*counts)[who][call][ready][b];
          const std::uint64_t n = c.calls.load(), ns = c.ns.load(), fds = c.fds.load();
          if (!n) continue;
          char range[32] = "-";
          if (call == call_poll) std::snprintf(range, sizeof range, "%llu-%llu", 1ull << b, (2ull << b) - 1);
          char per_fd[16] = "-";
          if (call == call_poll && fds) std::snprintf(per_fd, sizeof per_fd, "%.1f", static_cast<double>(ns) / fds);
          std::fprintf(stderr, "%-11s %-8s %-13s %-6s %10llu %12.1f %9s\n", call_names[call], side_names[who], range,
                       ready ? ">0" : "0", static_cast<unsigned long long>(n), static_cast<double>(ns) / n, per_fd);
        }
}

}  // namespace

extern "C" int poll(pollfd* fds, nfds_t n, int timeout) {
  static const auto real = next<int (*)(pollfd*, nfds_t, int)>("poll");
  const std::uint64_t t0 = now_ns();
  const int r = real(fds, n, timeout);
  const std::uint64_t t1 = now_ns();
  const int saved = errno;
  last_wait_side = caller_of(__builtin_return_address(0));
  record(last_wait_side, call_poll, r, n, t1 - t0);
  errno = saved;
  return r;
}

extern "C" int epoll_wait(int epfd, epoll_event* events, int max, int timeout) {
  static const auto real = next<int (*)(int, epoll_event*, int, int)>("epoll_wait");
  const std::uint64_t t0 = now_ns();
  const int r = real(epfd, events, max, timeout);
  const std::uint64_t t1 = now_ns();
  const int saved = errno;
  last_wait_side = caller_of(__builtin_return_address(0));
  record(last_wait_side, call_epoll_wait, r, 0, t1 - t0);
  errno = saved;
  return r;
}

extern "C" ssize_t recv(int fd, void* buf, std::size_t len, int flags) {
  static const auto real = next<ssize_t (*)(int, void*, std::size_t, int)>("recv");
  const std::uint64_t t0 = now_ns();
  const ssize_t r = real(fd, buf, len, flags);
  const std::uint64_t t1 = now_ns();
  const int saved = errno;
  record(last_wait_side, call_recv, r, 0, t1 - t0);
  errno = saved;
  return r;
}

extern "C" ssize_t send(int fd, const void* buf, std::size_t len, int flags) {
  static const auto real = next<ssize_t (*)(int, const void*, std::size_t, int)>("send");
  const std::uint64_t t0 = now_ns();
  const ssize_t r = real(fd, buf, len, flags);
  const std::uint64_t t1 = now_ns();
  const int saved = errno;
  record(last_wait_side, call_send, r, 0, t1 - t0);
  errno = saved;
  return r;
}
