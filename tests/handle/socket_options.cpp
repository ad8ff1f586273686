// no_delay, keepalive, oobinline: set on the socket when the stream is up (oobinline on by
// default, as AnyEvent), and changed at run time; on a socket where an option does not apply
// (TCP_NODELAY on a unix socket) it is ignored without an error.
#include "support.hpp"

#include <netinet/tcp.h>

using namespace handle_test;

namespace {
int opt(int fd, int level, int name) {
  int v = -1;
  socklen_t len = sizeof v;
  REQUIRE(::getsockopt(fd, level, name, &v, &len) == 0);
  return v != 0;
}

/// A connected TCP pair over loopback: [0] ours, [1] the accepted end.
std::vector<ae::fd> tcp_pair() {
  std::vector<ae::fd> accepted;
  std::uint16_t port = 0;
  auto server = ae::tcp_server(
      "127.0.0.1", "0", [&](ae::fd f, std::string, std::uint16_t) { accepted.push_back(std::move(f)); },
      [&](int, std::string, std::uint16_t p) {
        port = p;
        return 0;
      });
  ae::fd mine;
  auto g = ae::tcp_connect("127.0.0.1", std::to_string(port), [&](std::error_code ec, ae::fd f) {
    REQUIRE_FALSE(ec);
    mine = std::move(f);
  });
  REQUIRE(run_until([&] { return mine && !accepted.empty(); }));
  std::vector<ae::fd> out;
  out.push_back(std::move(mine));
  out.push_back(std::move(accepted[0]));
  return out;
}
}  // namespace

TEST_CASE("handle/socket_options/defaults") {
  auto pair = tcp_pair();
  auto h = ae::handle::create({.fd = std::move(pair[0])});
  CHECK(opt(h->fd(), IPPROTO_TCP, TCP_NODELAY) == 0);
  CHECK(opt(h->fd(), SOL_SOCKET, SO_KEEPALIVE) == 0);
  CHECK(opt(h->fd(), SOL_SOCKET, SO_OOBINLINE) == 1);
}

TEST_CASE("handle/socket_options/from_options_and_at_run_time") {
  auto pair = tcp_pair();
  auto h = ae::handle::create({.fd = std::move(pair[0]), .no_delay = true, .keepalive = true, .oobinline = false});
  CHECK(opt(h->fd(), IPPROTO_TCP, TCP_NODELAY) == 1);
  CHECK(opt(h->fd(), SOL_SOCKET, SO_KEEPALIVE) == 1);
  CHECK(opt(h->fd(), SOL_SOCKET, SO_OOBINLINE) == 0);
  h->no_delay(false);
  h->keepalive(false);
  h->oobinline(true);
  CHECK(opt(h->fd(), IPPROTO_TCP, TCP_NODELAY) == 0);
  CHECK(opt(h->fd(), SOL_SOCKET, SO_KEEPALIVE) == 0);
  CHECK(opt(h->fd(), SOL_SOCKET, SO_OOBINLINE) == 1);
}

TEST_CASE("handle/socket_options/set_while_connecting") {
  std::vector<ae::fd> accepted;
  std::uint16_t port = 0;
  auto server = ae::tcp_server(
      "127.0.0.1", "0", [&](ae::fd f, std::string, std::uint16_t) { accepted.push_back(std::move(f)); },
      [&](int, std::string, std::uint16_t p) {
        port = p;
        return 0;
      });
  bool up = false;
  auto h = ae::handle::create({.connect = {"127.0.0.1", std::to_string(port)},
                               .on_connect = [&](ae::handle&) { up = true; }});
  h->no_delay(true);  // no socket yet: applied once connected
  h->keepalive(true);
  REQUIRE(run_until([&] { return up; }));
  CHECK(opt(h->fd(), IPPROTO_TCP, TCP_NODELAY) == 1);
  CHECK(opt(h->fd(), SOL_SOCKET, SO_KEEPALIVE) == 1);
}

TEST_CASE("handle/socket_options/not_applicable_is_ignored") {
  auto p = make_socketpair();
  recorder rec;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error(), .no_delay = true, .keepalive = true});
  h->no_delay(false);
  h->push_write("still fine");
  sink s(p.b.get());
  REQUIRE(run_until([&] { return s.data == "still fine"; }));
  CHECK(rec.errors.empty());
  auto q = make_pipe();
  auto hp = ae::handle::create({.fd = std::move(q.b), .on_error = rec.on_error(), .no_delay = true, .keepalive = true});
  hp->push_write("pipe");
  CHECK(read_available(q.a.get()) == "pipe");
  CHECK(rec.errors.empty());
}
