// handle::create refuses options that cannot work, with ae::error (AnyEvent croaks): neither
// fd nor connect, both, a descriptor that is not open, a datagram socket (only stream
// sockets), read_size 0. The descriptor passed in is not leaked either way.
#include "support.hpp"

using namespace handle_test;

TEST_CASE("handle/create_errors/neither_fd_nor_connect") {
  CHECK_THROWS_AS(ae::handle::create({}), ae::error);
  CHECK_THROWS_AS(ae::handle::create({.on_error = [](ae::handle&, bool, std::error_code, std::string_view) {}}),
                  ae::error);
}

TEST_CASE("handle/create_errors/both_fd_and_connect") {
  auto p = make_socketpair();
  const int n = p.a.get();
  const long before = open_fds();
  CHECK_THROWS_AS(ae::handle::create({.fd = std::move(p.a), .connect = {"127.0.0.1", "1"}}), ae::error);
  CHECK(open_fds() == before - 1);  // the options owned the fd: closed, not leaked
  CHECK_FALSE(fd_open(n));
}

TEST_CASE("handle/create_errors/closed_descriptor") {
  int n = 1000;
  while (fd_open(n)) ++n;  // a number that is not open
  CHECK_THROWS_AS(ae::handle::create({.fd = ae::fd(n)}), ae::error);
  // And one that was open a moment ago.
  int s[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s) == 0);
  ::close(s[1]);
  ::close(s[0]);
  CHECK_THROWS_AS(ae::handle::create({.fd = ae::fd(s[0])}), ae::error);
}

TEST_CASE("handle/create_errors/datagram_socket") {
  const long before = open_fds();
  ae::fd udp(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  REQUIRE(udp);
  CHECK_THROWS_AS(ae::handle::create({.fd = std::move(udp)}), ae::error);
  int s[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, s) == 0);
  ae::fd keep(s[1]);
  CHECK_THROWS_AS(ae::handle::create({.fd = ae::fd(s[0])}), ae::error);
  keep.reset();
  CHECK(open_fds() == before);
}

TEST_CASE("handle/create_errors/read_size_zero") {
  auto p = make_socketpair();
  CHECK_THROWS_AS(ae::handle::create({.fd = std::move(p.a), .read_size = 0}), ae::error);
  CHECK_THROWS_AS(ae::handle::create({.connect = {"127.0.0.1", "1"}, .read_size = 0}), ae::error);
}

TEST_CASE("handle/create_errors/nothing_runs_after_a_refusal") {
  // A refused create leaves no watcher, timer or connect attempt behind.
  int calls = 0;
  auto count = [&](ae::handle&) { ++calls; };
  auto p = make_socketpair();
  CHECK_THROWS_AS(ae::handle::create({.fd = std::move(p.a), .connect = {"127.0.0.1", "1"},
                                      .on_connect = count, .on_drain = count, .timeout = 1ms,
                                      .on_timeout = count}),
                  ae::error);
  run_for(50ms);
  CHECK(calls == 0);
}

TEST_CASE("handle/create_errors/fd_made_non_blocking") {
  int s[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, s) == 0);  // blocking
  ae::fd peer(s[1]);
  auto h = ae::handle::create({.fd = ae::fd(s[0])});
  CHECK((::fcntl(h->fd(), F_GETFL) & O_NONBLOCK) != 0);
}
