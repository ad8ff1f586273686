// on_prepare: called with the new socket before connect() (h.fd() is that socket), its
// return value is the connect timeout: a connect that hangs ends with ETIMEDOUT after it.
#include "support.hpp"

#include <netinet/tcp.h>

using namespace handle_test;

TEST_CASE("handle/connect_prepare/sees_the_socket") {
  std::vector<ae::fd> accepted;
  std::uint16_t port = 0;
  auto server = ae::tcp_server(
      "127.0.0.1", "0", [&](ae::fd f, std::string, std::uint16_t) { accepted.push_back(std::move(f)); },
      [&](int, std::string, std::uint16_t p) {
        port = p;
        return 0;
      });
  int prepares = 0, connects = 0;
  int prepared_fd = -1, socket_type = -1, connected_fd = -2;
  int nodelay_at_connect = -1;
  auto h = ae::handle::create({.connect = {"127.0.0.1", std::to_string(port)},
                               .on_prepare =
                                   [&](ae::handle& hh) -> ae::duration {
                                     ++prepares;
                                     prepared_fd = hh.fd();
                                     socklen_t len = sizeof socket_type;
                                     ::getsockopt(hh.fd(), SOL_SOCKET, SO_TYPE, &socket_type, &len);
                                     int one = 1;  // a setting made here stays on the socket
                                     ::setsockopt(hh.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                                     return ae::duration::zero();
                                   },
                               .on_connect = [&](ae::handle& hh) {
                                 ++connects;
                                 connected_fd = hh.fd();
                                 socklen_t len = sizeof nodelay_at_connect;
                                 ::getsockopt(hh.fd(), IPPROTO_TCP, TCP_NODELAY, &nodelay_at_connect, &len);
                               }});
  REQUIRE(run_until([&] { return connects == 1; }));
  CHECK(prepares == 1);
  CHECK(prepared_fd >= 0);
  CHECK(socket_type == SOCK_STREAM);
  CHECK(connected_fd == prepared_fd);
  CHECK(nodelay_at_connect != 0);
  CHECK(h->fd() == prepared_fd);
}

TEST_CASE("handle/connect_prepare/destroy_inside_on_prepare") {
  // on_prepare runs inside create() for a numeric host: destroying there ends everything.
  std::uint16_t port = 0;
  ae::fd holder = refusing_socket(port);
  int prepares = 0, others = 0;
  recorder rec;
  const long before = open_fds();
  auto h = ae::handle::create({.connect = {"127.0.0.1", std::to_string(port)},
                               .on_prepare =
                                   [&](ae::handle& hh) -> ae::duration {
                                     ++prepares;
                                     hh.destroy();
                                     return {};
                                   },
                               .on_connect = [&](ae::handle&) { ++others; },
                               .on_connect_error = [&](ae::handle&, std::error_code, std::string_view) { ++others; },
                               .on_error = rec.on_error()});
  run_for(50ms);
  CHECK(prepares == 1);
  CHECK(others == 0);
  CHECK(rec.errors.empty());
  CHECK(h->destroyed());
  CHECK(open_fds() == before);  // the socket made for the attempt is closed
}

TEST_CASE("handle/connect_prepare/timeout_honoured") {
  hanging_port hp;
  int calls = 0, prepares = 0, connects = 0;
  std::error_code got;
  ae::default_loop().now_update();
  const auto start = loop_now();
  ae::time_point failed_at{};
  auto h = ae::handle::create({.connect = {"127.0.0.1", std::to_string(hp.port)},
                               .on_prepare =
                                   [&](ae::handle& hh) -> ae::duration {
                                     ++prepares;
                                     CHECK(hh.fd() >= 0);
                                     return 200ms;
                                   },
                               .on_connect = [&](ae::handle&) { ++connects; },
                               .on_connect_error = [&](ae::handle&, std::error_code ec, std::string_view) {
                                 ++calls;
                                 got = ec;
                                 failed_at = loop_now();
                               }});
  REQUIRE(run_until([&] { return calls > 0; }));
  CHECK(calls == 1);
  CHECK(prepares == 1);
  CHECK(connects == 0);
  CHECK(got == std::errc::timed_out);
  CHECK(failed_at - start >= 200ms);
  CHECK(h->destroyed());
}

TEST_CASE("handle/connect_prepare/inactivity_timeouts_wait_for_the_connection") {
  // timeout and friends count from the moment the stream is up, not while connecting (the
  // connect timeout is on_prepare's business).
  hanging_port hp;
  int timeouts = 0, failures = 0;
  auto h = ae::handle::create({.connect = {"127.0.0.1", std::to_string(hp.port)},
                               .on_prepare = [](ae::handle&) -> ae::duration { return 300ms; },
                               .on_connect_error = [&](ae::handle&, std::error_code, std::string_view) { ++failures; },
                               .timeout = 30ms,
                               .rtimeout = 30ms,
                               .on_timeout = [&](ae::handle&) { ++timeouts; },
                               .on_rtimeout = [&](ae::handle&) { ++timeouts; }});
  REQUIRE(run_until([&] { return failures > 0; }));
  CHECK(timeouts == 0);
}

TEST_CASE("handle/connect_prepare/timeout_through_on_error") {
  hanging_port hp;
  recorder rec;
  auto h = ae::handle::create({.connect = {"127.0.0.1", std::to_string(hp.port)},
                               .on_prepare = [](ae::handle&) -> ae::duration { return 100ms; },
                               .on_error = rec.on_error()});
  REQUIRE(run_until([&] { return !rec.errors.empty(); }));
  REQUIRE(rec.errors.size() == 1);
  CHECK(rec.errors[0].fatal);
  CHECK(rec.errors[0].ec == std::errc::timed_out);
  CHECK(h->destroyed());
}
