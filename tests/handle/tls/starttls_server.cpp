// starttls on a live server handle: our SMTP-like server (tls_support) greets in plain text,
// offers STARTTLS, answers "220 go ahead" and calls starttls(accept, ctx);
// `openssl s_client -starttls smtp` drives it, verifies our certificate, and then talks
// through the TLS session.
#include "tls_support.hpp"

using namespace tls_test;

TEST_CASE("tls/starttls/smtp_server_s_client") {
  smtp_server smtp(server_context());
  auto c = s_client(smtp.srv.port, {"-starttls", "smtp", "-CAfile", certs().ca_cert, "-verify_return_error",
                                    "-verify_ip", "127.0.0.1", "-crlf"});
  REQUIRE(c->wait_output("Verify return code: 0 (ok)"));
  REQUIRE(smtp.conns.size() == 1);
  auto& conn = *smtp.conns[0];
  REQUIRE(run_until([&] { return conn.o.handshake_done(); }));
  CHECK(conn.o.starttls_calls == 1);
  CHECK(conn.o.starttls_ok);
  CHECK(conn.o.errors == 0);
  CHECK(conn.h->tls() != nullptr);
  CHECK(conn.wbuf_empty_at_starttls);
  // s_client said EHLO and STARTTLS in plain text.
  REQUIRE(conn.plain_lines.size() == 2);
  CHECK(conn.plain_lines[0].starts_with("EHLO"));
  CHECK(conn.plain_lines[1] == "STARTTLS");

  c->write_stdin("MAIL FROM:<a@example.test>\n");
  REQUIRE(c->wait_output("250 got MAIL FROM:<a@example.test>"));
  REQUIRE(conn.tls_lines.size() == 1);
  CHECK(conn.tls_lines[0] == "MAIL FROM:<a@example.test>");
  c->write_stdin("QUIT\n");
  CHECK(c->wait_output("221 bye"));
  CHECK(conn.o.errors == 0);
}

TEST_CASE("tls/starttls/smtp_server_untrusted_client_gives_up") {
  // s_client refuses our certificate when it does not know our CA: our server's handshake
  // fails (EPROTO via on_starttls), once.
  smtp_server smtp(server_context());
  auto c = s_client(smtp.srv.port, {"-starttls", "smtp", "-verify_return_error", "-CAfile", certs().self_cert});
  REQUIRE(run_until([&] { return smtp.conns.size() == 1 && smtp.conns[0]->o.handshake_done(); }));
  auto& conn = *smtp.conns[0];
  run_for(std::chrono::milliseconds(50));
  CHECK(conn.o.starttls_calls == 1);
  CHECK_FALSE(conn.o.starttls_ok);
  CHECK(conn.o.errors == 0);
  CHECK(conn.h->destroyed());
  CHECK(c->wait_exit());
  CHECK_FALSE(c->exit_ok());
}
