// tcp_connect + tcp_server over ::1.
#include "tcp_support.hpp"

using namespace net_test;

TEST_CASE("tcp_connect/ipv6") {
  std::uint16_t server_port = 0;
  ae::fd accepted;
  std::string accepted_host;
  auto server = ae::tcp_server(
      "::1", "0",
      [&](ae::fd f, std::string host, std::uint16_t) {
        accepted = std::move(f);
        accepted_host = std::move(host);
      },
      [&](int, std::string host, std::uint16_t port) {
        CHECK(host == "::1");
        server_port = port;
        return 0;
      });
  REQUIRE(server_port != 0);

  bool returned = false, called = false;
  ae::fd client;
  std::string peer_host;
  std::uint16_t peer_port = 0;
  auto g = ae::tcp_connect("::1", std::to_string(server_port),
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
  CHECK(client);
  CHECK(peer_host == "::1");
  CHECK(peer_port == server_port);
  CHECK(accepted_host == "::1");
}
