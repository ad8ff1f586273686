// Measuring helpers and workload fixtures shared by every side.
#include "bench.hpp"

#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdexcept>
#include <unistd.h>

namespace ae::bench {

std::vector<side>& raw_sides() {
  static std::vector<side> sides;
  return sides;
}

const side* find_raw(const std::string& name) {
  for (const auto& s : raw_sides())
    if (s.name == name) return &s;
  return nullptr;
}

std::int64_t wall_ns() {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

std::int64_t thread_cpu_ns() {
  timespec ts;
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

std::int64_t heap_bytes() {
  const struct mallinfo2 mi = ::mallinfo2();
  return static_cast<std::int64_t>(mi.uordblks + mi.hblkhd);
}

extern "C" __attribute__((noinline)) void ae_bench_measured_phase(void (*body)(void*), void* arg) {
  body(arg);
  // Keeps the call a real call frame that callgrind can see enter and leave.
  asm volatile("" ::: "memory");
}

void die(const std::string& what) {
  std::fprintf(stderr, "ae-bench: %s\n", what.c_str());
  std::fflush(stderr);
  std::_Exit(2);
}

socket_pairs::socket_pairs(int n) {
  rd.reserve(n);
  wr.reserve(n);
  for (int i = 0; i < n; ++i) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) < 0)
      die(std::string("socketpair: ") + std::strerror(errno) + " (raise the descriptor limit?)");
    rd.push_back(sv[0]);
    wr.push_back(sv[1]);
  }
}

socket_pairs::~socket_pairs() {
  for (int fd : rd) ::close(fd);
  for (int fd : wr) ::close(fd);
}

std::vector<int> timer_timeouts(const timer_config& c) {
  // xorshift64*: the same sequence everywhere, independent of the C library's rand().
  std::uint64_t x = 0x9e3779b97f4a7c15ull;
  std::vector<int> ms(c.count);
  for (auto& m : ms) {
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    m = 1 + static_cast<int>(((x * 0x2545f4914f6cdd1dull) >> 33) % static_cast<std::uint64_t>(c.max_ms));
  }
  return ms;
}

pingpong_ctx::pingpong_ctx() {
  const int lfd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (lfd < 0) die(std::string("socket: ") + std::strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (::bind(lfd, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0 || ::listen(lfd, 1) < 0 ||
      ::getsockname(lfd, reinterpret_cast<sockaddr*>(&a), &len) < 0)
    die(std::string("listen on 127.0.0.1: ") + std::strerror(errno));
  client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (client < 0 || ::connect(client, reinterpret_cast<sockaddr*>(&a), sizeof a) < 0)
    die(std::string("connect to 127.0.0.1: ") + std::strerror(errno));
  server = ::accept4(lfd, nullptr, nullptr, SOCK_CLOEXEC);
  if (server < 0) die(std::string("accept: ") + std::strerror(errno));
  ::close(lfd);
  const int one = 1;
  for (int fd : {client, server}) {
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  }
}

pingpong_ctx::~pingpong_ctx() {
  ::close(client);
  ::close(server);
}

}  // namespace ae::bench
