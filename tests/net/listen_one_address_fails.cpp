// listen() on one address that cannot be bound: on_fail reports the failed call with its
// arguments and errno, then on_listen_error runs once (every address failed), and
// on_listen never does. With a second, good address only on_fail runs.
#include "tcp_support.hpp"

#include <vector>

using namespace net_test;

namespace {

struct fail_record {
  std::string syscall, args;
  int err;
};

ae::target tcp_target(const char* host, std::uint16_t port) {
  const auto a = *ae::parse_address(host);
  return {a.family(), SOCK_STREAM, 0, ae::pack_sockaddr(port, a)};
}

}  // namespace

TEST_CASE("listen/one_address_fails") {
  // A port someone listens on already: bind() fails with EADDRINUSE even with SO_REUSEADDR.
  std::uint16_t busy = 0;
  auto holder = ae::tcp_server("127.0.0.1", "0", [](ae::fd, std::string, std::uint16_t) {},
                               [&](int, std::string, std::uint16_t p) {
                                 busy = p;
                                 return 0;
                               });
  std::vector<fail_record> fails;
  std::vector<std::pair<std::string, int>> listen_errors;
  int listened = 0;
  ae::listen_options o;
  o.addrs = {tcp_target("127.0.0.1", busy)};
  o.on_accept = [](ae::fd, std::string, std::uint16_t) {};
  o.on_listen = [&](int, std::string, std::uint16_t) { ++listened; };
  o.on_fail = [&](std::string call, std::string args, int err) { fails.push_back({call, args, err}); };
  o.on_listen_error = [&](std::string message, int err) { listen_errors.emplace_back(message, err); };
  auto g = ae::listen(std::move(o));
  CHECK(fails.empty());
  REQUIRE(run_until([&] { return !listen_errors.empty(); }));
  run_for(20ms);
  REQUIRE(fails.size() == 1);
  CHECK(fails[0].syscall == "bind");
  CHECK(fails[0].args.find("127.0.0.1:" + std::to_string(busy)) != std::string::npos);
  CHECK(fails[0].err == EADDRINUSE);
  REQUIRE(listen_errors.size() == 1);
  CHECK(listen_errors[0].first.rfind("bind: ", 0) == 0);
  CHECK(listen_errors[0].second == EADDRINUSE);
  CHECK(listened == 0);
}

TEST_CASE("listen/one_of_two_fails") {
  std::uint16_t busy = 0;
  auto holder = ae::tcp_server("127.0.0.1", "0", [](ae::fd, std::string, std::uint16_t) {},
                               [&](int, std::string, std::uint16_t p) {
                                 busy = p;
                                 return 0;
                               });
  int fails = 0, listen_errors = 0, listened = 0;
  ae::listen_options o;
  o.addrs = {tcp_target("127.0.0.1", busy), tcp_target("127.0.0.1", 0)};
  o.on_accept = [](ae::fd, std::string, std::uint16_t) {};
  o.on_listen = [&](int, std::string, std::uint16_t) { ++listened; };
  o.on_fail = [&](std::string, std::string, int) { ++fails; };
  o.on_listen_error = [&](std::string, int) { ++listen_errors; };
  auto g = ae::listen(std::move(o));
  REQUIRE(run_until([&] { return listened == 1; }));
  run_for(20ms);
  CHECK(fails == 1);
  CHECK(listen_errors == 0);
}

TEST_CASE("listen/socket_failure_ranked_below_bind") {
  // An unsupported family fails at socket(); a busy port fails at bind(); on_listen_error
  // reports the more significant bind failure (IO::Async's ranking).
  std::uint16_t busy = 0;
  auto holder = ae::tcp_server("127.0.0.1", "0", [](ae::fd, std::string, std::uint16_t) {},
                               [&](int, std::string, std::uint16_t p) {
                                 busy = p;
                                 return 0;
                               });
  ae::target bad = tcp_target("127.0.0.1", 0);
  bad.type = 12345;  // no such socket type: socket() fails with EINVAL
  std::vector<std::string> calls;
  std::string message;
  ae::listen_options o;
  o.addrs = {bad, tcp_target("127.0.0.1", busy)};
  o.on_accept = [](ae::fd, std::string, std::uint16_t) {};
  o.on_fail = [&](std::string call, std::string, int) { calls.push_back(call); };
  o.on_listen_error = [&](std::string m, int) { message = m; };
  auto g = ae::listen(std::move(o));
  REQUIRE(run_until([&] { return !message.empty(); }));
  CHECK(calls == std::vector<std::string>{"socket", "bind"});
  CHECK(message.rfind("bind: ", 0) == 0);
}
