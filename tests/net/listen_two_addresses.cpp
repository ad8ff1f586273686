// listen() with two addresses opens one socket per address, reports each through
// on_listen, and accepts on both.
#include "tcp_support.hpp"

#include <map>

using namespace net_test;

namespace {

ae::target tcp_target(const char* host, std::uint16_t port) {
  const auto a = *ae::parse_address(host);
  return {a.family(), SOCK_STREAM, 0, ae::pack_sockaddr(port, a)};
}

}  // namespace

TEST_CASE("listen/two_addresses") {
  std::map<std::string, std::uint16_t> listening;  // host -> port
  std::map<std::string, int> accepted;             // peer host -> count
  int failures = 0, listen_errors = 0;
  bool returned = false;
  ae::listen_options o;
  o.addrs = {tcp_target("127.0.0.1", 0), tcp_target("::1", 0)};
  o.on_accept = [&](ae::fd f, std::string host, std::uint16_t) {
    CHECK(f);
    ++accepted[host];
  };
  o.on_listen = [&](int fd, std::string host, std::uint16_t port) {
    CHECK(returned);
    CHECK(fd >= 0);
    listening[host] = port;
  };
  o.on_fail = [&](std::string, std::string, int) { ++failures; };
  o.on_listen_error = [&](std::string, int) { ++listen_errors; };
  auto g = ae::listen(std::move(o));
  returned = true;
  CHECK(listening.empty());  // nothing happens inside listen()
  REQUIRE(run_until([&] { return listening.size() == 2; }));
  CHECK(failures == 0);
  CHECK(listen_errors == 0);
  REQUIRE(listening.count("127.0.0.1") == 1);
  REQUIRE(listening.count("::1") == 1);

  int connected = 0;
  auto c4 = ae::tcp_connect("127.0.0.1", std::to_string(listening["127.0.0.1"]),
                            [&](std::error_code ec, ae::fd) { connected += !ec; });
  auto c6 = ae::tcp_connect("::1", std::to_string(listening["::1"]),
                            [&](std::error_code ec, ae::fd) { connected += !ec; });
  REQUIRE(run_until([&] { return connected == 2 && accepted.size() == 2; }));
  CHECK(accepted["127.0.0.1"] == 1);
  CHECK(accepted["::1"] == 1);

  g.reset();  // both sockets close
  std::error_code after;
  bool done = false;
  auto c = ae::tcp_connect("127.0.0.1", std::to_string(listening["127.0.0.1"]), [&](std::error_code ec, ae::fd) {
    after = ec;
    done = true;
  });
  REQUIRE(run_until([&] { return done; }));
  CHECK(after == std::errc::connection_refused);
}

TEST_CASE("listen/host_and_service") {
  std::uint16_t port = 0;
  int accepted = 0;
  ae::listen_options o;
  o.host = "localhost";
  o.service = "0";
  o.family = 4;
  o.queuesize = 16;
  o.on_accept = [&](ae::fd, std::string, std::uint16_t) { ++accepted; };
  o.on_listen = [&](int, std::string host, std::uint16_t p) {
    CHECK(host == "127.0.0.1");
    port = p;
  };
  auto g = ae::listen(std::move(o));
  REQUIRE(run_until([&] { return port != 0; }));
  bool connected = false;
  auto c = ae::tcp_connect("127.0.0.1", std::to_string(port), [&](std::error_code ec, ae::fd) { connected = !ec; });
  REQUIRE(run_until([&] { return connected && accepted == 1; }));
}

TEST_CASE("listen/existing_handle") {
  ae::fd s(::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  auto sa = ae::pack_sockaddr(0, *ae::parse_address("127.0.0.1"));
  REQUIRE(::bind(s.get(), sa.data(), sa.size()) == 0);
  REQUIRE(::listen(s.get(), 4) == 0);
  const std::uint16_t port = local_port(s.get());
  int accepted = 0, listened = 0;
  ae::listen_options o;
  o.handle = std::move(s);
  o.on_accept = [&](ae::fd, std::string, std::uint16_t) { ++accepted; };
  o.on_listen = [&](int, std::string, std::uint16_t p) {
    CHECK(p == port);
    ++listened;
  };
  auto g = ae::listen(std::move(o));
  bool connected = false;
  auto c = ae::tcp_connect("127.0.0.1", std::to_string(port), [&](std::error_code ec, ae::fd) { connected = !ec; });
  REQUIRE(run_until([&] { return connected && accepted == 1; }));
  CHECK(listened == 1);
}

TEST_CASE("listen/resolve_error") {
  std::string message;
  int accepted = 0;
  ae::listen_options o;
  o.host = "no-such-name.invalid";
  o.service = "0";
  o.on_accept = [&](ae::fd, std::string, std::uint16_t) { ++accepted; };
  o.on_resolve_error = [&](std::string m) { message = std::move(m); };
  auto g = ae::listen(std::move(o));
  CHECK(message.empty());
  REQUIRE(run_until([&] { return !message.empty(); }));
  CHECK(message.find("no-such-name.invalid") != std::string::npos);
}
