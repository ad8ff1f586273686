// accept() failing with EMFILE must not spin the loop: the server logs one warning, stops
// accepting for 100 ms at a time, and accepts the waiting connection once descriptors are
// available again.
#include "tcp_support.hpp"

#include <anyevent/log.hpp>

#include <sys/resource.h>

#include <vector>

using namespace net_test;

namespace {

/// Lowers RLIMIT_NOFILE so that no new descriptor can be opened; restores it on reset().
class fd_starvation {
 public:
  fd_starvation() {
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved_) == 0);
    const int lowest_free = ::dup(0);
    REQUIRE(lowest_free >= 0);
    ::close(lowest_free);
    rlimit low = saved_;
    low.rlim_cur = static_cast<rlim_t>(lowest_free);
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
    active_ = true;
  }
  ~fd_starvation() { reset(); }
  void reset() {
    if (active_) ::setrlimit(RLIMIT_NOFILE, &saved_);
    active_ = false;
  }

 private:
  rlimit saved_{};
  bool active_ = false;
};

}  // namespace

TEST_CASE("tcp_server/emfile_pauses_accepting") {
  std::vector<std::string> warnings;
  ae::log::set_sink([&](ae::log::level l, std::string_view m) {
    if (l <= ae::log::level::warn) warnings.emplace_back(m);
  });
  std::uint16_t port = 0;
  int accepted = 0;
  auto server = ae::tcp_server("127.0.0.1", "0", [&](ae::fd f, std::string, std::uint16_t) { accepted += !!f; },
                               [&](int, std::string, std::uint16_t p) {
                                 port = p;
                                 return 0;
                               });
  ae::fd client(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  REQUIRE(client);
  auto target = ae::pack_sockaddr(port, *ae::parse_address("127.0.0.1"));

  fd_starvation starve;
  (void)::connect(client.get(), target.data(), target.size());
  // Count loop iterations for 300 ms: a spinning server would make thousands.
  bool expired = false;
  ae::timer t(300ms, [&] { expired = true; });
  int iterations = 0;
  while (!expired) {
    ae::default_loop().run_once();
    ++iterations;
  }
  starve.reset();
  CHECK(accepted == 0);
  CHECK(iterations < 100);
  CHECK(warnings.size() == 1);
  if (!warnings.empty()) CHECK(warnings[0].find("Too many open files") != std::string::npos);

  REQUIRE(run_until([&] { return accepted == 1; }));
  ae::log::set_sink({});
}
