// Server mode: ae::tcp_server hands each connection to an ae::handle with tls = accept and a
// context with our certificate; `openssl s_client` connects, verifies the chain and the
// address strictly (-verify_return_error -verify_ip), sends lines, and our server echoes
// them. When s_client ends its session (close_notify), the server sees end-of-file.
#include "tls_support.hpp"

#include <openssl/ssl.h>

using namespace tls_test;

namespace {

/// An echo server: each line comes back as "echo: <line>\n".
struct echo_server {
  struct conn {
    observed o;
    std::shared_ptr<ae::handle> h;
  };
  std::vector<std::unique_ptr<conn>> conns;
  std::shared_ptr<ae::tls_context> ctx;
  server srv;

  explicit echo_server(std::shared_ptr<ae::tls_context> c)
      : ctx(std::move(c)), srv([this](ae::fd sock, std::string, std::uint16_t) { accept(std::move(sock)); }) {}
  ~echo_server() {
    for (auto& c : conns) c->h->destroy();
  }

  void accept(ae::fd sock) {
    auto& c = *conns.emplace_back(std::make_unique<conn>());
    auto opts = tls_handle(std::move(sock), ae::tls_mode::accept, ctx);
    observe(opts, c.o, true, false, /*read_all=*/false);
    c.h = ae::handle::create(std::move(opts));
    read_line(*c.h);
  }
  static void read_line(ae::handle& h) {
    h.push_read(ae::line(), [](ae::handle& h, std::string_view line) {
      h.push_write("echo: " + std::string(line) + "\n");
      read_line(h);
    });
  }
};

}  // namespace

TEST_CASE("tls/server/s_client_echo") {
  echo_server es(server_context());
  auto c = s_client(es.srv.port, {"-CAfile", certs().ca_cert, "-verify_return_error", "-verify_ip", "127.0.0.1"});
  REQUIRE(c->wait_output("Verify return code: 0 (ok)"));
  c->write_stdin("one\n");
  REQUIRE(c->wait_output("echo: one"));
  c->write_stdin("two\nthree\n");
  REQUIRE(c->wait_output("echo: three"));
  CHECK(c->printed("echo: two"));
  REQUIRE(es.conns.size() == 1);
  auto& conn = *es.conns[0];
  CHECK(conn.o.starttls_calls == 1);
  CHECK(conn.o.starttls_ok);
  CHECK(conn.o.errors == 0);
  REQUIRE(conn.h->tls() != nullptr);

  // stdin's end: s_client sends close_notify and quits. Without on_stoptls that is an EOF,
  // and as a line read is queued, a fatal EPIPE (as in AnyEvent) — not a TLS error.
  c->close_stdin();
  REQUIRE(run_until([&] { return conn.o.eof_calls > 0 || conn.o.errors > 0; }));
  CHECK(conn.o.eof_calls == 0);
  CHECK(conn.o.errors == 1);
  CHECK(conn.o.fatal_errors == 1);
  CHECK_MESSAGE(conn.o.ec == std::errc::broken_pipe, conn.o.ec.message() << ": " << conn.o.error_message);
  CHECK(c->wait_exit());
}

TEST_CASE("tls/server/s_client_tls1_2") {
  echo_server es(server_context());
  auto c = s_client(es.srv.port, {"-CAfile", certs().ca_cert, "-verify_return_error", "-tls1_2"});
  REQUIRE(c->wait_output("Verify return code: 0 (ok)"));
  c->write_stdin("old protocol\n");
  REQUIRE(c->wait_output("echo: old protocol"));
  REQUIRE(es.conns.size() == 1);
  CHECK(tls_version(*es.conns[0]->h) == TLS1_2_VERSION);
}

TEST_CASE("tls/server/s_client_refuses_tls1_1") {
  // Nothing older than TLS 1.2 is accepted.
  echo_server es(server_context());
  auto c = s_client(es.srv.port, {"-CAfile", certs().ca_cert, "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0"});
  REQUIRE(run_until([&] { return es.conns.size() == 1 && es.conns[0]->o.handshake_done(); }));
  CHECK(es.conns[0]->o.starttls_calls == 1);
  CHECK_FALSE(es.conns[0]->o.starttls_ok);
  CHECK(es.conns[0]->o.errors == 0);
  CHECK(c->wait_exit());
  CHECK_FALSE(c->exit_ok());
}

TEST_CASE("tls/server/several_clients") {
  echo_server es(server_context());
  std::vector<std::unique_ptr<process>> clients;
  for (int i = 0; i < 3; ++i)
    clients.push_back(s_client(es.srv.port, {"-CAfile", certs().ca_cert, "-verify_return_error"}));
  for (auto& c : clients) REQUIRE(c->wait_output("Verify return code: 0 (ok)"));
  for (std::size_t i = 0; i < clients.size(); ++i) clients[i]->write_stdin("client " + std::to_string(i) + "\n");
  for (std::size_t i = 0; i < clients.size(); ++i)
    CHECK(clients[i]->wait_output("echo: client " + std::to_string(i)));
  CHECK(es.conns.size() == 3);
}
