// retry() drops the connection just made and tries the next target; targets come in
// ANYEVENT_PROTOCOLS order (IPv4 first by default).
#include "tcp_support.hpp"

#include <fstream>
#include <vector>

using namespace net_test;

namespace {

struct attempt {
  std::error_code ec;
  bool has_fd = false;
  std::string host;
};

std::vector<attempt> connect_and_retry_all(const std::string& host, std::uint16_t port) {
  std::vector<attempt> seen;
  bool done = false;
  auto g = ae::tcp_connect(host, std::to_string(port),
                           [&](std::error_code ec, ae::fd f, std::string h, std::uint16_t, ae::retry_fn retry) {
                             seen.push_back({ec, static_cast<bool>(f), h});
                             if (ec)
                               done = true;
                             else
                               retry();  // f closes when it goes out of scope
                           });
  REQUIRE(run_until([&] { return done; }));
  run_for(20ms);
  return seen;
}

}  // namespace

TEST_CASE("tcp_connect/retry_next_target") {
  temp_dir dir;
  {
    std::ofstream(dir / "hosts") << "127.0.0.1 two.test\n127.0.0.2 two.test\n";
  }
  scoped_env env("ANYEVENT_HOSTS", dir / "hosts");
  std::uint16_t port = 0;
  int accepted = 0;
  auto server = ae::tcp_server("0.0.0.0", "0", [&](ae::fd, std::string, std::uint16_t) { ++accepted; },
                               [&](int, std::string, std::uint16_t p) {
                                 port = p;
                                 return 0;
                               });
  auto seen = connect_and_retry_all("two.test", port);
  REQUIRE(seen.size() == 3);
  CHECK_FALSE(seen[0].ec);
  CHECK(seen[0].has_fd);
  CHECK(seen[0].host == "127.0.0.1");
  CHECK_FALSE(seen[1].ec);
  CHECK(seen[1].host == "127.0.0.2");
  CHECK(seen[2].ec);  // out of targets
  CHECK_FALSE(seen[2].has_fd);
}

TEST_CASE("tcp_connect/retry_ipv4_then_ipv6") {
  std::uint16_t port = 0;
  auto server = ae::tcp_server("", "0", [&](ae::fd, std::string, std::uint16_t) {},
                               [&](int, std::string host, std::uint16_t p) {
                                 CHECK(host == "::");  // dual-stack
                                 port = p;
                                 return 0;
                               });
  {
    auto seen = connect_and_retry_all("localhost", port);
    REQUIRE(seen.size() == 3);
    CHECK(seen[0].host == "127.0.0.1");
    CHECK(seen[1].host == "::1");
  }
  {
    scoped_env env("ANYEVENT_PROTOCOLS", "ipv6,ipv4");
    auto seen = connect_and_retry_all("localhost", port);
    REQUIRE(seen.size() == 3);
    CHECK(seen[0].host == "::1");
    CHECK(seen[1].host == "127.0.0.1");
  }
  {
    scoped_env env("ANYEVENT_PROTOCOLS", "ipv6");
    auto seen = connect_and_retry_all("localhost", port);
    REQUIRE(seen.size() == 2);
    CHECK(seen[0].host == "::1");
  }
}

TEST_CASE("tcp_connect/refused_then_next_target") {
  // The first target refuses; tcp_connect goes on to the second by itself.
  temp_dir dir;
  {
    std::ofstream(dir / "hosts") << "127.0.0.2 mixed.test\n127.0.0.1 mixed.test\n";
  }
  scoped_env env("ANYEVENT_HOSTS", dir / "hosts");
  std::uint16_t port = 0;
  auto server = ae::tcp_server("127.0.0.1", "0", [&](ae::fd, std::string, std::uint16_t) {},
                               [&](int, std::string, std::uint16_t p) {
                                 port = p;
                                 return 0;
                               });
  int calls = 0;
  std::string host;
  auto g = ae::tcp_connect("mixed.test", std::to_string(port),
                           [&](std::error_code ec, ae::fd, std::string h, std::uint16_t) {
                             ++calls;
                             CHECK_FALSE(ec);
                             host = h;
                           });
  REQUIRE(run_until([&] { return calls > 0; }));
  CHECK(calls == 1);
  CHECK(host == "127.0.0.1");
}
