// Bulk transfer handle-to-handle: 8 MiB each way at once, compared byte for byte, over a
// socket pair with TLS 1.2 only and with TLS 1.3 (SSL_version on h.tls() says which ran),
// and over loopback TCP. No time limit beyond a generous bound: correctness only.
#include "tls_support.hpp"

#include <openssl/ssl.h>

#include <functional>

using namespace tls_test;

namespace {

constexpr std::size_t bulk_size = std::size_t(8) << 20;

struct side {
  observed o;
  std::shared_ptr<ae::handle> h;
  std::size_t compared = 0;
  bool mismatch = false;
};

/// Sends `out` from each side and checks what arrives against the other side's data as it
/// comes in (no 8 MiB copy is kept).
void exchange(ae::handle_options copts, ae::handle_options sopts, int expected_version) {
  const std::string to_server = pattern(bulk_size, 1), to_client = pattern(bulk_size, 2);
  side c, s;
  auto consume = [](side& me, const std::string& expected) {
    return [&me, &expected](ae::handle& h) {
      const std::string_view got = h.rbuf().view();
      if (me.compared + got.size() > expected.size() ||
          expected.compare(me.compared, got.size(), got.data(), got.size()) != 0)
        me.mismatch = true;
      me.compared += got.size();
      h.rbuf().consume(got.size());
    };
  };
  observe(copts, c.o, true, false, false);
  observe(sopts, s.o, true, false, false);
  copts.on_read = consume(c, to_client);
  sopts.on_read = consume(s, to_server);
  c.h = ae::handle::create(std::move(copts));
  s.h = ae::handle::create(std::move(sopts));
  // Queued at once, before the handshake: in pieces of uneven size, so records vary.
  for (std::size_t at = 0, n = 1; at < bulk_size; at += n, n = n * 3 % 200003 + 1) {
    n = std::min(n, bulk_size - at);
    c.h->push_write(std::string_view(to_server).substr(at, n));
    s.h->push_write(std::string_view(to_client).substr(at, n));
  }
  REQUIRE(run_until([&] { return (c.compared >= bulk_size && s.compared >= bulk_size) || c.o.errors || s.o.errors; },
                    std::chrono::seconds(120)));
  CHECK(c.o.errors == 0);
  CHECK(s.o.errors == 0);
  CHECK(c.o.starttls_calls == 1);
  CHECK(s.o.starttls_calls == 1);
  CHECK(c.o.starttls_ok);
  CHECK(s.o.starttls_ok);
  CHECK(c.compared == bulk_size);
  CHECK(s.compared == bulk_size);
  CHECK_FALSE(c.mismatch);
  CHECK_FALSE(s.mismatch);
  REQUIRE(c.h->tls() != nullptr);
  REQUIRE(s.h->tls() != nullptr);
  if (expected_version) {
    CHECK(tls_version(*c.h) == expected_version);
    CHECK(tls_version(*s.h) == expected_version);
  }
  REQUIRE(run_until([&] { return c.h->wbuf_size() == 0 && s.h->wbuf_size() == 0; }));
  c.h->destroy();
  s.h->destroy();
}

}  // namespace

TEST_CASE("tls/bulk/tls1_2_socketpair") {
  auto sopt = server_options();
  sopt.prepare = [](ssl_ctx_st* ctx) { SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION); };
  auto p = socketpair_options(client_context(), make_context(std::move(sopt)));
  exchange(std::move(p.client), std::move(p.server), TLS1_2_VERSION);
}

TEST_CASE("tls/bulk/tls1_3_socketpair") {
  auto copt = client_options();
  copt.min_version = ae::tls_version::tls1_3;
  auto sopt = server_options();
  sopt.min_version = ae::tls_version::tls1_3;
  auto p = socketpair_options(make_context(std::move(copt)), make_context(std::move(sopt)));
  exchange(std::move(p.client), std::move(p.server), TLS1_3_VERSION);
}

TEST_CASE("tls/bulk/loopback_tcp") {
  ae::fd accepted;
  server srv([&](ae::fd sock, std::string, std::uint16_t) { accepted = std::move(sock); });
  ae::fd connected;
  bool done = false;
  auto g = ae::tcp_connect("127.0.0.1", srv.service(), [&](std::error_code ec, ae::fd sock) {
    CHECK_FALSE(ec);
    connected = std::move(sock);
    done = true;
  });
  REQUIRE(run_until([&] { return done && accepted; }));
  REQUIRE(connected);
  exchange(tls_handle(std::move(connected), ae::tls_mode::connect, client_context(), "localhost"),
           tls_handle(std::move(accepted), ae::tls_mode::accept, server_context()), 0);
}

// After the handshake, push_write hands its bytes to OpenSSL where they are (nothing waits
// before them), and the echo server writes from inside its read callback, while the bytes
// it was given are still rbuf's: 4 MiB in uneven pieces, pushed from on_drain whenever the
// write buffer is low, must come back intact and in order, read back by queued chunk reads
// whose sizes do not line up with the pieces or the records.
TEST_CASE("tls/bulk/echo_after_handshake") {
  constexpr std::size_t total = std::size_t(4) << 20;
  const std::string data = pattern(total, 3);
  auto p = socketpair_options(client_context(), server_context());
  observed co, so;
  observe(p.client, co, true, false, false);
  observe(p.server, so, true, false, false);
  std::size_t echoed = 0;
  p.server.on_read = [&echoed](ae::handle& h) {
    h.push_write(h.rbuf().view());  // from rbuf, into the TLS stream, during the callback
    echoed += h.rbuf().size();
    h.rbuf().consume(h.rbuf().size());
  };
  auto c = ae::handle::create(std::move(p.client));
  auto s = ae::handle::create(std::move(p.server));
  REQUIRE(run_until([&] { return (co.handshake_done() && so.handshake_done()) || co.failed() || so.failed(); }));
  REQUIRE(co.starttls_ok);
  REQUIRE(so.starttls_ok);

  std::string back;
  std::function<void(ae::handle&, std::string_view)> take = [&](ae::handle& h, std::string_view got) {
    back.append(got);
    if (back.size() < total) h.push_read(ae::chunk(std::min<std::size_t>(total - back.size(), 7919)), take);
  };
  c->push_read(ae::chunk(7919), take);
  std::size_t sent = 0, piece = 1;
  c->low_water_mark(32 * 1024);
  c->on_drain([&](ae::handle& h) {
    while (sent < total && h.wbuf_size() <= 32 * 1024) {
      const std::size_t n = std::min(piece, total - sent);
      h.push_write(std::string_view(data).substr(sent, n));
      sent += n;
      piece = piece * 7 % 65521 + 1;
    }
  });
  REQUIRE(run_until([&] { return back.size() >= total || co.errors || so.errors; }, std::chrono::seconds(60)));
  CHECK(co.errors == 0);
  CHECK(so.errors == 0);
  CHECK(echoed == total);
  CHECK(back.size() == total);
  CHECK(back == data);
  c->destroy();
  s->destroy();
}
