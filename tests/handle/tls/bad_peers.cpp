// Peers that do not speak TLS or stop in the middle: a TLS client meeting a plain HTTP
// server, a TLS server fed an HTTP request, and either peer closing mid-handshake. Each is
// one clear fatal error (EPROTO for bytes that are not TLS), reported once; the handle is
// destroyed and its descriptor closed.
#include "tls_support.hpp"

#include <anyevent/error.hpp>

using namespace tls_test;

namespace {

/// A plain TCP server that answers every connection with `reply` (then keeps it open, or
/// closes it once `close_after` bytes arrived).
struct plain_server {
  std::vector<std::unique_ptr<sink>> sinks;
  std::vector<ae::fd> socks;
  server srv;
  plain_server(std::string reply)
      : srv([this, reply](ae::fd sock, std::string, std::uint16_t) {
          if (!reply.empty()) write_all(sock.get(), reply);
          sinks.push_back(std::make_unique<sink>(sock.get()));
          socks.push_back(std::move(sock));
        }) {}
  std::size_t received() const {
    std::size_t n = 0;
    for (auto& s : sinks) n += s->data.size();
    return n;
  }
  void close_all() {
    for (auto& s : sinks) s->stop();
    socks.clear();
  }
};

std::shared_ptr<ae::handle> tls_client(observed& o, std::uint16_t port, bool with_on_starttls) {
  ae::handle_options opts;
  opts.connect = {"localhost", std::to_string(port)};
  opts.tls = ae::tls_mode::connect;
  opts.tls_ctx = client_context();
  opts.linger = std::chrono::seconds(0);
  observe(opts, o, with_on_starttls);
  return ae::handle::create(std::move(opts));
}

void check_one_fatal(const observed& o, const ae::handle& h, std::errc expected) {
  CHECK(o.errors == 1);
  CHECK(o.fatal_errors == 1);
  CHECK_MESSAGE(o.ec == expected, o.ec.message() << ": " << o.error_message);
  CHECK_FALSE(o.error_message.empty());
  CHECK(o.eof_calls == 0);
  CHECK(h.destroyed());
  CHECK(h.fd() == -1);
}

}  // namespace

TEST_CASE("tls/bad_peer/plain_http_server") {
  const long fds = open_fds();
  {
    plain_server ps("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nthis is not TLS\r\n");
    observed o;
    auto h = tls_client(o, ps.srv.port, false);
    REQUIRE(run_until([&] { return o.errors > 0; }));
    run_for(std::chrono::milliseconds(50));
    check_one_fatal(o, *h, std::errc::protocol_error);
  }
  CHECK(open_fds() == fds);
}

TEST_CASE("tls/bad_peer/plain_http_server_on_starttls") {
  plain_server ps("HTTP/1.0 200 OK\r\n\r\n");
  observed o;
  auto h = tls_client(o, ps.srv.port, true);
  REQUIRE(run_until([&] { return o.handshake_done(); }));
  run_for(std::chrono::milliseconds(50));
  CHECK(o.starttls_calls == 1);
  CHECK_FALSE(o.starttls_ok);
  CHECK_FALSE(o.starttls_message.empty());
  CHECK(o.errors == 0);
  CHECK(h->destroyed());
}

TEST_CASE("tls/bad_peer/garbage_to_server") {
  const long fds = open_fds();
  {
    std::shared_ptr<ae::handle> h;
    observed o;
    server srv([&](ae::fd sock, std::string, std::uint16_t) {
      auto opts = tls_handle(std::move(sock), ae::tls_mode::accept, server_context());
      observe(opts, o, false);
      h = ae::handle::create(std::move(opts));
    });
    ae::fd raw;
    bool connected = false;
    auto g = ae::tcp_connect("127.0.0.1", srv.service(), [&](std::error_code ec, ae::fd s) {
      CHECK_FALSE(ec);
      raw = std::move(s);
      connected = true;
    });
    REQUIRE(run_until([&] { return connected && h; }));
    REQUIRE(write_all(raw.get(), "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n"));
    REQUIRE(run_until([&] { return o.errors > 0; }));
    run_for(std::chrono::milliseconds(50));
    check_one_fatal(o, *h, std::errc::protocol_error);
  }
  CHECK(open_fds() == fds);
}

TEST_CASE("tls/bad_peer/server_closes_mid_handshake") {
  // The server reads (part of) the ClientHello and hangs up.
  plain_server ps("");
  observed o;
  auto h = tls_client(o, ps.srv.port, false);
  REQUIRE(run_until([&] { return ps.received() > 0; }));
  ps.close_all();
  REQUIRE(run_until([&] { return o.errors > 0; }));
  run_for(std::chrono::milliseconds(50));
  CHECK(o.errors == 1);
  CHECK(o.fatal_errors == 1);
  // A TLS failure, so EPROTO (not the EPIPE of a plain EOF with a read queued).
  CHECK_MESSAGE(o.ec == std::errc::protocol_error, o.ec.message() << ": " << o.error_message);
  CHECK(h->destroyed());
}

TEST_CASE("tls/bad_peer/server_closes_mid_handshake_on_starttls") {
  plain_server ps("");
  observed o;
  auto h = tls_client(o, ps.srv.port, true);
  REQUIRE(run_until([&] { return ps.received() > 0; }));
  ps.close_all();
  REQUIRE(run_until([&] { return o.handshake_done(); }));
  run_for(std::chrono::milliseconds(50));
  CHECK(o.starttls_calls == 1);
  CHECK_FALSE(o.starttls_ok);
  CHECK(o.errors == 0);
  CHECK(o.eof_calls == 0);
  CHECK(h->destroyed());
}

TEST_CASE("tls/bad_peer/client_closes_mid_handshake") {
  // A client sends the start of a TLS record (a handshake record header and a few bytes)
  // and hangs up.
  std::shared_ptr<ae::handle> h;
  observed o;
  server srv([&](ae::fd sock, std::string, std::uint16_t) {
    auto opts = tls_handle(std::move(sock), ae::tls_mode::accept, server_context());
    observe(opts, o, false);
    h = ae::handle::create(std::move(opts));
  });
  ae::fd raw;
  auto g = ae::tcp_connect("127.0.0.1", srv.service(), [&](std::error_code ec, ae::fd s) {
    CHECK_FALSE(ec);
    raw = std::move(s);
  });
  REQUIRE(run_until([&] { return raw && h; }));
  REQUIRE(write_all(raw.get(), std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11)));
  run_for(std::chrono::milliseconds(20));
  raw.reset();
  REQUIRE(run_until([&] { return o.errors > 0; }));
  run_for(std::chrono::milliseconds(50));
  CHECK(o.errors == 1);
  CHECK(o.fatal_errors == 1);
  // A TLS failure, so EPROTO (not the EPIPE of a plain EOF with a read queued).
  CHECK_MESSAGE(o.ec == std::errc::protocol_error, o.ec.message() << ": " << o.error_message);
  CHECK(h->destroyed());
}

TEST_CASE("tls/bad_peer/no_on_error_throws_from_the_loop") {
  // Without on_error a TLS failure is thrown as ae::error out of the loop's run (AnyEvent
  // croaks), with EPROTO.
  plain_server ps("HTTP/1.0 400 Bad Request\r\n\r\n");
  ae::handle_options opts;
  opts.connect = {"localhost", ps.srv.service()};
  opts.tls = ae::tls_mode::connect;
  opts.tls_ctx = client_context();
  opts.linger = std::chrono::seconds(0);
  auto h = ae::handle::create(std::move(opts));
  std::error_code thrown;
  try {
    run_until([&] { return h->destroyed(); });
  } catch (const ae::error& e) {
    thrown = e.code();
  }
  CHECK(thrown == std::errc::protocol_error);
  CHECK(h->destroyed());
}
