// starttls on a live client handle: a plain-text exchange with our SMTP-like server
// (greeting, EHLO, STARTTLS, "220 go ahead"), then starttls(connect) with our CA; both sides
// then talk TLS. Also: starttls twice is an error, and a ClientHello that arrives in the same
// read as the STARTTLS line (bytes already in rbuf) starts the server's TLS stream.
#include "tls_support.hpp"

#include <anyevent/error.hpp>

using namespace tls_test;

namespace {

struct smtp_client {
  observed o;
  std::shared_ptr<ae::handle> h;
  std::vector<std::string> replies;
  bool tls_requested = false;
  std::string final_reply;

  explicit smtp_client(std::uint16_t port) {
    ae::handle_options opts;
    opts.connect = {"localhost", std::to_string(port)};
    opts.linger = std::chrono::seconds(0);
    observe(opts, o, true, false, /*read_all=*/false);
    h = ae::handle::create(std::move(opts));
    h->push_read(ae::line(), [this](ae::handle& h, std::string_view greeting) {
      replies.emplace_back(greeting);
      h.push_write("EHLO client.test\r\n");
      read_ehlo(h);
    });
  }
  ~smtp_client() { h->destroy(); }

  void read_ehlo(ae::handle& h) {
    h.push_read(ae::line(), [this](ae::handle& h, std::string_view line) {
      replies.emplace_back(line);
      if (line.starts_with("250-")) return read_ehlo(h);
      h.push_write("STARTTLS\r\n");
      h.push_read(ae::line(), [this](ae::handle& h, std::string_view go) {
        replies.emplace_back(go);
        if (!go.starts_with("220")) return;
        tls_requested = true;
        h.starttls(ae::tls_mode::connect, client_context());
        h.push_write("MAIL FROM:<b@example.test>\r\n");
        h.push_read(ae::line(), [this](ae::handle&, std::string_view r) { final_reply = std::string(r); });
      });
    });
  }
};

}  // namespace

TEST_CASE("tls/starttls/client_after_plain_exchange") {
  smtp_server smtp(server_context());
  smtp_client cl(smtp.srv.port);
  REQUIRE(run_until([&] { return !cl.final_reply.empty() || cl.o.errors > 0 || cl.o.failed(); }));
  CHECK(cl.o.errors == 0);
  CHECK(cl.tls_requested);
  REQUIRE(cl.replies.size() == 4);
  CHECK(cl.replies[0].starts_with("220 anyevent.test"));
  CHECK(cl.replies[2] == "250 STARTTLS");
  CHECK(cl.replies[3] == "220 go ahead");
  CHECK(cl.o.starttls_calls == 1);
  CHECK(cl.o.starttls_ok);
  CHECK(cl.final_reply == "250 got MAIL FROM:<b@example.test>");
  CHECK(cl.h->tls() != nullptr);
  CHECK(peer_common_name(*cl.h) == "localhost");

  REQUIRE(smtp.conns.size() == 1);
  auto& conn = *smtp.conns[0];
  CHECK(conn.o.starttls_ok);
  CHECK(conn.plain_lines == std::vector<std::string>{"EHLO client.test", "STARTTLS"});
  CHECK(conn.tls_lines == std::vector<std::string>{"MAIL FROM:<b@example.test>"});
  CHECK(conn.o.errors == 0);
}

TEST_CASE("tls/starttls/twice_is_an_error") {
  auto p = socketpair_options(client_context(), server_context());
  observed oc, os;
  observe(p.client, oc);
  observe(p.server, os);
  auto c = ae::handle::create(std::move(p.client));
  auto s = ae::handle::create(std::move(p.server));
  CHECK_THROWS_AS(c->starttls(ae::tls_mode::connect, client_context()), ae::error);  // while handshaking
  REQUIRE(run_until([&] { return oc.handshake_done() && os.handshake_done(); }));
  CHECK(oc.starttls_ok);
  CHECK_THROWS_AS(s->starttls(ae::tls_mode::accept, server_context()), ae::error);
  // The session goes on unharmed.
  c->push_write("still fine\n");
  REQUIRE(run_until([&] { return os.received == "still fine\n" || os.errors > 0; }));
  CHECK(oc.starttls_calls == 1);
  CHECK(os.starttls_calls == 1);
  c->destroy();
  s->destroy();
}

TEST_CASE("tls/starttls/client_hello_already_in_rbuf") {
  // The client sends "STARTTLS\r\n" and its ClientHello back to back, without waiting for an
  // answer; the server reads both at once, takes the line and starts TLS on the rest.
  auto sp = make_socketpair();
  observed oc, os;
  std::string server_line;
  ae::handle_options sopts;
  sopts.fd = std::move(sp.b);
  sopts.linger = std::chrono::seconds(0);
  observe(sopts, os, true, false, false);
  auto s = ae::handle::create(std::move(sopts));
  auto ctx = server_context();
  std::size_t rbuf_after_line = 0;
  s->push_read(ae::line(), [&](ae::handle& h, std::string_view line) {
    server_line = std::string(line);
    rbuf_after_line = h.rbuf().size();
    h.starttls(ae::tls_mode::accept, ctx);
    h.on_read([&os](ae::handle& h) {
      os.received.append(h.rbuf().view());
      h.rbuf().consume(h.rbuf().size());
    });
  });

  ae::handle_options copts;
  copts.fd = std::move(sp.a);
  copts.peername = "localhost";
  copts.linger = std::chrono::seconds(0);
  observe(copts, oc);
  auto c = ae::handle::create(std::move(copts));
  c->push_write("STARTTLS\r\n");
  c->starttls(ae::tls_mode::connect, client_context());
  c->push_write("secret\n");

  REQUIRE(run_until([&] { return os.received == "secret\n" || oc.failed() || os.failed(); }));
  CHECK(server_line == "STARTTLS");
  CHECK(rbuf_after_line > 0);  // the ClientHello was there already
  CHECK(oc.starttls_ok);
  CHECK(os.starttls_ok);
  CHECK(os.received == "secret\n");
  c->destroy();
  s->destroy();
}

TEST_CASE("tls/starttls/uses_the_handles_tls_ctx") {
  // starttls(mode) without a context takes the handle's tls_ctx option (here: trusting our
  // CA, so the handshake can only succeed with it — the default context would refuse).
  smtp_server smtp(server_context());
  observed o;
  std::string reply;
  ae::handle_options opts;
  opts.connect = {"localhost", smtp.srv.service()};
  opts.tls_ctx = client_context();
  opts.linger = std::chrono::seconds(0);
  observe(opts, o, true, false, false);
  auto h = ae::handle::create(std::move(opts));
  h->push_read(ae::line(), [&](ae::handle& h, std::string_view) {
    h.push_write("STARTTLS\r\n");
    h.push_read(ae::line(), [&](ae::handle& h, std::string_view go) {
      CHECK(go == "220 go ahead");
      h.starttls(ae::tls_mode::connect);
      h.push_write("hello\r\n");
      h.push_read(ae::line(), [&](ae::handle&, std::string_view r) { reply = std::string(r); });
    });
  });
  REQUIRE(run_until([&] { return !reply.empty() || o.failed(); }));
  CHECK_MESSAGE(o.starttls_ok, o.starttls_message);
  CHECK(reply == "250 got hello");
  h->destroy();
}
