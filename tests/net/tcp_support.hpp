// Helpers for the socket tests: run the default loop until something happened (bounded, so
// a broken backend fails instead of hanging), temporary directories, descriptor counts.
#pragma once

#include <doctest/doctest.h>

#include <anyevent/fd.hpp>
#include <anyevent/loop.hpp>
#include <anyevent/socket.hpp>
#include <anyevent/timer.hpp>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace net_test {

using namespace std::chrono_literals;

/// Runs the default loop until `done()` holds or `limit` passed; returns done().
inline bool run_until(const std::function<bool()>& done, std::chrono::milliseconds limit = 10s) {
  auto& l = ae::default_loop();
  bool expired = false;
  ae::timer t(limit, [&] { expired = true; }, l);
  while (!done() && !expired) l.run_once();
  return done();
}

/// Runs the default loop for about `d` (whatever happens meanwhile).
inline void run_for(std::chrono::milliseconds d) {
  bool expired = false;
  ae::timer t(d, [&] { expired = true; });
  while (!expired) ae::default_loop().run_once();
}

inline long open_fds() {
  long n = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

/// The local port of a socket.
inline std::uint16_t local_port(int fd) {
  ae::sockaddr sa;
  socklen_t len = sa.capacity();
  REQUIRE(::getsockname(fd, sa.data(), &len) == 0);
  sa.resize(len);
  return static_cast<std::uint16_t>(std::stoi(ae::unpack_sockaddr(sa).first));
}

/// A port on 127.0.0.1 that refuses connections: bound (so nobody else takes it) but never
/// listening. Keep the returned socket open while the port is used.
inline ae::fd refusing_socket(std::uint16_t& port) {
  ae::fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(s);
  auto sa = ae::pack_sockaddr(0, *ae::parse_address("127.0.0.1"));
  REQUIRE(::bind(s.get(), sa.data(), sa.size()) == 0);
  port = local_port(s.get());
  return s;
}

/// A loopback port whose connects hang. Loopback never loses a SYN, so: a listener with
/// backlog 0 that never accepts holds one completed connection; once its accept queue is
/// full the kernel drops further SYNs (Linux: tcp_conn_request counts a ListenOverflow and
/// drops; gVisor behaves alike), so later connects stay in SYN-SENT for a long time.
struct hanging_port {
  ae::fd listener;
  std::vector<ae::fd> fillers;
  std::uint16_t port = 0;

  hanging_port() {
    listener.reset(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    auto sa = ae::pack_sockaddr(0, *ae::parse_address("127.0.0.1"));
    REQUIRE(::bind(listener.get(), sa.data(), sa.size()) == 0);
    REQUIRE(::listen(listener.get(), 0) == 0);
    port = local_port(listener.get());
    auto t = ae::pack_sockaddr(port, *ae::parse_address("127.0.0.1"));
    for (int i = 0; i < 4; ++i) {
      fillers.emplace_back(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
      (void)::connect(fillers.back().get(), t.data(), t.size());
    }
    run_for(20ms);
  }
};

/// A fresh directory under $TMPDIR (or /tmp), removed with everything in it at scope end.
class temp_dir {
 public:
  temp_dir() {
    const char* base = std::getenv("TMPDIR");
    std::string templ = std::string(base && *base ? base : "/tmp") + "/ae-net-XXXXXX";
    REQUIRE(::mkdtemp(templ.data()) != nullptr);
    path_ = templ;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  std::string operator/(std::string_view name) const { return path_ + "/" + std::string(name); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

/// Sets an environment variable for one scope, restoring the old value afterwards.
class scoped_env {
 public:
  scoped_env(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old, had_ = true;
    ::setenv(name, value.c_str(), 1);
  }
  ~scoped_env() {
    if (had_)
      ::setenv(name_, old_.c_str(), 1);
    else
      ::unsetenv(name_);
  }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

}  // namespace net_test
