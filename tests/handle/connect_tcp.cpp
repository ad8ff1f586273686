// .connect = {host, port}: the handle connects through tcp_connect; on_connect gets the
// peer's host and port; reads and writes queued while connecting go through once it is up;
// peername defaults to the connect host. Destroying a handle while it connects cancels it.
#include "support.hpp"

using namespace handle_test;

namespace {
/// A tcp_server on 127.0.0.1, port 0, keeping the accepted sockets.
struct server {
  std::vector<ae::fd> accepted;
  std::uint16_t port = 0;
  ae::guard g;
  server() {
    g = ae::tcp_server(
        "127.0.0.1", "0", [this](ae::fd f, std::string, std::uint16_t) { accepted.push_back(std::move(f)); },
        [this](int, std::string, std::uint16_t p) {
          port = p;
          return 0;
        });
    REQUIRE(port != 0);
  }
};
}  // namespace

TEST_CASE("handle/connect/tcp_exchange") {
  server srv;
  recorder rec;
  int connects = 0;
  std::string host = "?";
  std::uint16_t peer_port = 0;
  int fd_at_connect = -2;
  std::vector<std::string> lines;
  auto h = ae::handle::create({.connect = {"127.0.0.1", std::to_string(srv.port)},
                               .on_connect =
                                   [&](ae::handle& hh, std::string ho, std::uint16_t po) {
                                     ++connects;
                                     host = std::move(ho);
                                     peer_port = po;
                                     fd_at_connect = hh.fd();
                                   },
                               .on_error = rec.on_error()});
  CHECK(connects == 0);  // never inside create()
  CHECK(h->fd() == -1);  // still connecting
  CHECK(h->peername() == "127.0.0.1");
  // Queued before the connection is up.
  h->push_write("early bird\n");
  h->push_write(ae::netstring("typed"));
  h->push_read(ae::line(), [&](ae::handle&, std::string_view l) { lines.emplace_back(l); });
  REQUIRE(run_until([&] { return connects == 1 && srv.accepted.size() == 1; }));
  CHECK(host == "127.0.0.1");
  CHECK(peer_port == srv.port);
  CHECK(fd_at_connect >= 0);
  CHECK(h->fd() == fd_at_connect);

  sink s(srv.accepted[0].get());
  REQUIRE(run_until([&] { return s.data.size() >= 19; }));
  CHECK(s.data == "early bird\n5:typed,");

  REQUIRE(write_all(srv.accepted[0].get(), "hello back\n"));
  REQUIRE(run_until([&] { return !lines.empty(); }));
  CHECK(lines == std::vector<std::string>{"hello back"});

  // A bigger transfer both ways over TCP.
  const std::string up = pattern(3 * 1024 * 1024, 20), down = pattern(1024 * 1024, 21);
  std::string got_down;
  h->push_write(up);
  h->push_read(ae::chunk(down.size()), [&](ae::handle&, std::string_view d) { got_down = d; });
  std::size_t off = 0;
  ae::io w;
  w = ae::io(srv.accepted[0].get(), ae::poll::write, [&] {
    if (off == down.size()) return w.stop();
    const ssize_t n = ::send(srv.accepted[0].get(), down.data() + off, down.size() - off, MSG_NOSIGNAL);
    if (n > 0) off += static_cast<std::size_t>(n);
  });
  REQUIRE(run_until([&] { return s.data.size() >= 19 + up.size() && !got_down.empty(); }, 30s));
  w.stop();
  CHECK(s.data.substr(19) == up);
  CHECK(got_down == down);
  CHECK(rec.errors.empty());
  CHECK(connects == 1);
}

TEST_CASE("handle/connect/on_connect_one_argument") {
  server srv;
  int connects = 0;
  auto h = ae::handle::create({.connect = {"127.0.0.1", std::to_string(srv.port)},
                               .on_connect = [&](ae::handle&) { ++connects; }});
  REQUIRE(run_until([&] { return connects == 1; }));
  h->push_write("x");
  REQUIRE(run_until([&] { return srv.accepted.size() == 1 && unread_bytes(srv.accepted[0].get()) == 1; }));
}

TEST_CASE("handle/connect/peername") {
  server srv;
  auto a = ae::handle::create({.connect = {"127.0.0.1", std::to_string(srv.port)}});
  CHECK(a->peername() == "127.0.0.1");
  auto b = ae::handle::create({.connect = {"127.0.0.1", std::to_string(srv.port)}, .peername = "example.org"});
  CHECK(b->peername() == "example.org");
  auto p = make_socketpair();
  auto c = ae::handle::create({.fd = std::move(p.a)});
  CHECK(c->peername().empty());
  REQUIRE(run_until([&] { return srv.accepted.size() == 2; }));
  CHECK(a->peername() == "127.0.0.1");  // unchanged once connected
  CHECK(b->peername() == "example.org");
}

TEST_CASE("handle/connect/destroy_in_on_connect") {
  server srv;
  recorder rec;
  int reads = 0, drains = 0;
  auto h = ae::handle::create({.connect = {"127.0.0.1", std::to_string(srv.port)},
                               .on_connect = [](ae::handle& hh) { hh.destroy(); },
                               .on_error = rec.on_error(),
                               .on_read = [&](ae::handle&) { ++reads; },
                               .on_drain = [&](ae::handle&) { ++drains; }});
  h->push_read(ae::chunk(1), [&](ae::handle&, std::string_view) { ++reads; });
  REQUIRE(run_until([&] { return h->destroyed() && srv.accepted.size() == 1; }));
  (void)::send(srv.accepted[0].get(), "data", 4, MSG_NOSIGNAL);
  REQUIRE(run_until([&] { return peer_sees_eof(srv.accepted[0].get()); }));
  run_for(20ms);
  CHECK(reads == 0);
  CHECK(drains <= 1);  // the connect-time on_drain may come before on_connect, never after
  CHECK(rec.errors.empty());
}

TEST_CASE("handle/connect/on_drain_once_connected") {
  server srv;
  int drains = 0, connects = 0, connects_at_drain = -1;
  auto h = ae::handle::create({.connect = {"127.0.0.1", std::to_string(srv.port)},
                               .on_connect = [&](ae::handle&) { ++connects; },
                               .on_drain = [&](ae::handle& hh) {
                                 ++drains;
                                 connects_at_drain = connects;
                                 CHECK(hh.fd() >= 0);
                               }});
  CHECK(drains == 0);  // no stream yet: nothing is "drained"
  REQUIRE(run_until([&] { return connects == 1; }));
  run_for(20ms);
  CHECK(drains == 1);
  CHECK(connects_at_drain <= 1);
}

TEST_CASE("handle/connect/destroy_while_connecting") {
  server srv;
  recorder rec;
  int connects = 0, connect_errors = 0;
  auto h = ae::handle::create({.connect = {"127.0.0.1", std::to_string(srv.port)},
                               .on_connect = [&](ae::handle&) { ++connects; },
                               .on_connect_error = [&](ae::handle&, std::error_code, std::string_view) { ++connect_errors; },
                               .on_error = rec.on_error()});
  h->push_write("never");
  h->destroy();
  run_for(100ms);
  CHECK(connects == 0);
  CHECK(connect_errors == 0);
  CHECK(rec.errors.empty());
  // Whatever the kernel had already accepted carries none of our bytes.
  for (auto& f : srv.accepted) CHECK(read_available(f.get()).empty());

  // Dropping the only reference while connecting is as good as destroy().
  auto h2 = ae::handle::create({.connect = {"127.0.0.1", std::to_string(srv.port)},
                                .on_connect = [&](ae::handle&) { ++connects; }});
  std::weak_ptr<ae::handle> w = h2;
  h2.reset();
  CHECK(w.expired());
  run_for(100ms);
  CHECK(connects == 0);
}
