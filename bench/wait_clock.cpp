// libae-wait-clock.so: how long the kernel's waits take, anyevent's against the raw loops'.
//
//   LD_PRELOAD=./bench/libae-wait-clock.so ./bench/ae-bench io --backend poll-posix --preset full
//
// Interposes poll(2) and epoll_wait(2), times each call with CLOCK_MONOTONIC and files it by
// caller (libanyevent, or anything else: the raw baselines in ae-bench), by call, by whether
// it returned ready fds (an io bench re-arm round returns none, its loop phase some) and, for
// poll(2), by the power of two below its number of fds. The table is printed to stderr when
// the process exits; ae-bench's per-column children end with _Exit, so the counters live in
// a shared anonymous mapping made before they fork and the parent prints them all.
// ns/fd (poll only) divides by the fds passed: the kernel visits every one of them.
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

namespace {

constexpr int buckets = 32;  // poll: floor(log2(nfds)); epoll_wait: 0

struct cell {
  std::atomic<std::uint64_t> calls, ns, fds;
};
// [caller: 0 other, 1 libanyevent][call: 0 poll, 1 epoll_wait][returned ready: 0 no, 1 yes][bucket]
using table = cell[2][2][2][buckets];
table* counts = nullptr;

std::uint64_t now_ns() {
  timespec t;
  ::clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<std::uint64_t>(t.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(t.tv_nsec);
}

int caller_of(const void* return_address) {
  Dl_info info;
  return ::dladdr(return_address, &info) && info.dli_fname && std::strstr(info.dli_fname, "libanyevent") ? 1 : 0;
}

void record(int caller, int call, int result, std::uint64_t fds, std::uint64_t ns) {
  if (!counts) return;
  int b = 0;
  while (call == 0 && b + 1 < buckets && (fds >> (b + 1)) != 0) ++b;
  cell& c = (*counts)[caller][call][result > 0 ? 1 : 0][b];
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
  static const char* const callers[2] = {"raw", "ae"};
  static const char* const calls[2] = {"poll", "epoll_wait"};
  std::fprintf(stderr, "%-11s %-4s %-13s %-6s %10s %12s %9s\n", "call", "side", "fds", "ready", "calls", "ns/call",
               "ns/fd");
  for (int call = 0; call < 2; ++call)
    for (int b = 0; b < buckets; ++b)
      for (int ready = 0; ready < 2; ++ready)
        for (int who = 0; who < 2; ++who) {
          const cell& c = (*counts)[who][call][ready][b];
          const std::uint64_t n = c.calls.load(), ns = c.ns.load(), fds = c.fds.load();
          if (!n) continue;
          char range[32] = "-";
          if (call == 0) std::snprintf(range, sizeof range, "%llu-%llu", 1ull << b, (2ull << b) - 1);
          char per_fd[16] = "-";
          if (call == 0 && fds) std::snprintf(per_fd, sizeof per_fd, "%.1f", static_cast<double>(ns) / fds);
          std::fprintf(stderr, "%-11s %-4s %-13s %-6s %10llu %12.1f %9s\n", calls[call], callers[who], range,
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
  record(caller_of(__builtin_return_address(0)), 0, r, n, t1 - t0);
  errno = saved;
  return r;
}

extern "C" int epoll_wait(int epfd, epoll_event* events, int max, int timeout) {
  static const auto real = next<int (*)(int, epoll_event*, int, int)>("epoll_wait");
  const std::uint64_t t0 = now_ns();
  const int r = real(epfd, events, max, timeout);
  const std::uint64_t t1 = now_ns();
  const int saved = errno;
  record(caller_of(__builtin_return_address(0)), 1, r, 0, t1 - t0);
  errno = saved;
  return r;
}
