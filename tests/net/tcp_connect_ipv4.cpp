// tcp_connect + tcp_server over 127.0.0.1: both ends see each other's address, the socket
// carries data, and the connect callback runs only after tcp_connect returned.
#include "tcp_support.hpp"

#include <fcntl.h>

using namespace net_test;

TEST_CASE("tcp_connect/ipv4") {
  std::uint16_t server_port = 0;
  ae::fd accepted;
  std::string accepted_host;
  auto server = ae::tcp_server(
      "127.0.0.1", "0",
      [&](ae::fd f, std::string host, std::uint16_t) {
        accepted = std::move(f);
        accepted_host = std::move(host);
      },
      [&](int, std::string host, std::uint16_t port) {
        CHECK(host == "127.0.0.1");
        server_port = port;
        return 0;
      });
  REQUIRE(server_port != 0);

  bool returned = false, called = false;
  ae::fd client;
  std::string peer_host;
  std::uint16_t peer_port = 0;
  auto g = ae::tcp_connect("127.0.0.1", std::to_string(server_port),
                           [&](std::error_code ec, ae::fd f, std::string host, std::uint16_t port) {
                             CHECK(returned);
                             CHECK_FALSE(ec);
                             called = true;
                             client = std::move(f);
                             peer_host = std::move(host);
                             peer_port = port;
                           });
  returned = true;
  REQUIRE(run_until([&] { return called && accepted; }));
  CHECK(peer_host == "127.0.0.1");
  CHECK(peer_port == server_port);
  CHECK(accepted_host == "127.0.0.1");
  CHECK((::fcntl(client.get(), F_GETFL) & O_NONBLOCK) != 0);
  CHECK((::fcntl(accepted.get(), F_GETFL) & O_NONBLOCK) != 0);
  CHECK((::fcntl(client.get(), F_GETFD) & FD_CLOEXEC) != 0);
  CHECK((::fcntl(accepted.get(), F_GETFD) & FD_CLOEXEC) != 0);

  REQUIRE(::send(client.get(), "ping", 4, MSG_NOSIGNAL) == 4);
  char buf[8] = {};
  REQUIRE(run_until([&] { return ::recv(accepted.get(), buf, sizeof buf, MSG_PEEK) == 4; }));
  CHECK(std::string(buf, 4) == "ping");
  CHECK(ae::tcp_nodelay(client.get(), true));
}
