// tcp_server on port 0: prepare learns the ephemeral port (the same getsockname reports),
// its backlog is used, and errors before listen() throw with the errno.
#include "tcp_support.hpp"

#include <anyevent/error.hpp>

using namespace net_test;

TEST_CASE("tcp_server/port0_reported") {
  std::uint16_t port = 0;
  int listen_fd = -1;
  int accepted = 0;
  auto server = ae::tcp_server("127.0.0.1", "0", [&](ae::fd, std::string, std::uint16_t) { ++accepted; },
                               [&](int fd, std::string host, std::uint16_t p) {
                                 CHECK(host == "127.0.0.1");
                                 listen_fd = fd;
                                 port = p;
                                 return 5;
                               });
  CHECK(port != 0);
  CHECK(local_port(listen_fd) == port);
  bool connected = false;
  auto g = ae::tcp_connect("127.0.0.1", std::to_string(port), [&](std::error_code ec, ae::fd) {
    CHECK_FALSE(ec);
    connected = true;
  });
  REQUIRE(run_until([&] { return connected && accepted == 1; }));
}

TEST_CASE("tcp_server/errors_throw") {
  std::uint16_t port = 0;
  auto first = ae::tcp_server("127.0.0.1", "0", [](ae::fd, std::string, std::uint16_t) {},
                              [&](int, std::string, std::uint16_t p) {
                                port = p;
                                return 0;
                              });
  try {
    auto second = ae::tcp_server("127.0.0.1", std::to_string(port), [](ae::fd, std::string, std::uint16_t) {});
    FAIL("a second server on the same port must not bind");
  } catch (const ae::error& e) {
    CHECK(e.code() == std::errc::address_in_use);
    const std::string what = e.what();
    CHECK(what.find("bind") != std::string::npos);
    CHECK(what.find("127.0.0.1:" + std::to_string(port)) != std::string::npos);
    // The errno's text once, at the end (system_error adds it).
    const std::string text = std::generic_category().message(EADDRINUSE);
    CHECK(what.find(text) == what.size() - text.size());
  }
  CHECK_THROWS_AS((void)ae::tcp_server("not-an-address", "0", [](ae::fd, std::string, std::uint16_t) {}), ae::error);
  CHECK_THROWS_AS((void)ae::tcp_server("127.0.0.1", "no-such-service-here", [](ae::fd, std::string, std::uint16_t) {}),
                  ae::error);
}

TEST_CASE("tcp_server/service_name") {
  // "name=port" needs no services database; the name part is only a label.
  auto server = ae::tcp_server("127.0.0.1", "mine=0", [](ae::fd, std::string, std::uint16_t) {},
                               [&](int, std::string, std::uint16_t p) {
                                 CHECK(p != 0);
                                 return 0;
                               });
  CHECK(server);
}
