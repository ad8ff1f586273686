// Client certificates: a server context with verify_client asks for one; with
// verify_require_client_cert a client without one fails the handshake (EPROTO on our side),
// an untrusted one fails always, a good one is accepted and visible on h.tls(). Against
// `openssl s_client` with and without -cert/-key, and handle-to-handle.
#include "tls_support.hpp"

using namespace tls_test;

namespace {

std::shared_ptr<ae::tls_context> asking_server(bool require) {
  auto o = server_options();
  o.ca_file = certs().ca_cert;
  o.verify_client = true;
  o.verify_require_client_cert = require;
  return make_context(std::move(o));
}

struct one_server {
  observed o;
  std::shared_ptr<ae::handle> h;
  std::shared_ptr<ae::tls_context> ctx;
  std::string client_cn;
  server srv;
  explicit one_server(std::shared_ptr<ae::tls_context> c)
      : ctx(std::move(c)), srv([this](ae::fd sock, std::string, std::uint16_t) {
          auto opts = tls_handle(std::move(sock), ae::tls_mode::accept, ctx);
          observe(opts, o);
          opts.on_starttls = [this](ae::handle& h, bool ok, std::string_view m) {
            ++o.starttls_calls;
            o.starttls_ok = ok;
            o.starttls_message = std::string(m);
            client_cn = peer_common_name(h);
            if (ok) h.push_write("welcome " + client_cn + "\n");
          };
          h = ae::handle::create(std::move(opts));
        }) {}
  ~one_server() {
    if (h) h->destroy();
  }
};

}  // namespace

TEST_CASE("tls/server/client_cert/required_missing") {
  one_server s(asking_server(true));
  auto c = s_client(s.srv.port, {"-CAfile", certs().ca_cert});
  REQUIRE(run_until([&] { return s.o.handshake_done(); }));
  CHECK(s.o.starttls_calls == 1);
  CHECK_FALSE(s.o.starttls_ok);
  CHECK_MESSAGE(contains_nocase(s.o.starttls_message, "certificate"), s.o.starttls_message);
  CHECK(s.o.errors == 0);
  // s_client hears the alert (TLS 1.3: after its side of the handshake) and gives up.
  CHECK(c->wait_exit());
  CHECK_MESSAGE(contains_nocase(c->output(), "alert"), c->output());
  CHECK_FALSE(c->printed("welcome"));
}

TEST_CASE("tls/server/client_cert/required_missing_on_error") {
  one_server s(asking_server(true));
  s.srv = server([&s](ae::fd sock, std::string, std::uint16_t) {
    auto opts = tls_handle(std::move(sock), ae::tls_mode::accept, s.ctx);
    observe(opts, s.o, /*starttls=*/false);
    s.h = ae::handle::create(std::move(opts));
  });
  auto c = s_client(s.srv.port, {"-CAfile", certs().ca_cert});
  REQUIRE(run_until([&] { return s.o.errors > 0; }));
  run_for(std::chrono::milliseconds(30));
  CHECK(s.o.errors == 1);
  CHECK(s.o.fatal_errors == 1);
  CHECK(s.o.ec == std::errc::protocol_error);
}

TEST_CASE("tls/server/client_cert/provided") {
  one_server s(asking_server(true));
  auto c = s_client(s.srv.port, {"-CAfile", certs().ca_cert, "-verify_return_error", "-cert", certs().client_cert,
                                 "-key", certs().client_key});
  REQUIRE(run_until([&] { return s.o.handshake_done(); }));
  CHECK(s.o.starttls_ok);
  CHECK(s.o.errors == 0);
  CHECK(s.client_cn == "anyevent test client");
  CHECK(c->wait_output("welcome anyevent test client"));
  c->write_stdin("from client\n");
  REQUIRE(run_until([&] { return s.o.received.find("from client\n") != std::string::npos || s.o.errors > 0; }));
  CHECK(s.o.errors == 0);
}

TEST_CASE("tls/server/client_cert/untrusted") {
  one_server s(asking_server(false));
  auto c = s_client(s.srv.port, {"-CAfile", certs().ca_cert, "-cert", certs().self_cert, "-key", certs().self_key});
  REQUIRE(run_until([&] { return s.o.handshake_done(); }));
  CHECK(s.o.starttls_calls == 1);
  CHECK_FALSE(s.o.starttls_ok);
  CHECK(s.o.errors == 0);
  CHECK(c->wait_exit());
  CHECK_FALSE(c->printed("welcome"));
}

TEST_CASE("tls/server/client_cert/optional_not_sent") {
  one_server s(asking_server(false));
  auto c = s_client(s.srv.port, {"-CAfile", certs().ca_cert, "-verify_return_error"});
  REQUIRE(run_until([&] { return s.o.handshake_done(); }));
  CHECK(s.o.starttls_ok);
  CHECK(s.client_cn.empty());
  CHECK(c->wait_output("welcome "));
}

TEST_CASE("tls/server/client_cert/not_asked") {
  // Without verify_client no certificate is requested, so none arrives even if the client
  // has one.
  one_server s(server_context());
  auto c = s_client(s.srv.port, {"-CAfile", certs().ca_cert, "-cert", certs().client_cert, "-key",
                                 certs().client_key});
  REQUIRE(run_until([&] { return s.o.handshake_done(); }));
  CHECK(s.o.starttls_ok);
  CHECK(s.client_cn.empty());
}

TEST_CASE("tls/client/client_cert/handle_to_handle") {
  auto copt = client_options();
  copt.cert_file = certs().client_cert;
  copt.key_file = certs().client_key;
  auto p = socketpair_options(make_context(std::move(copt)), asking_server(true));
  observed oc, os;
  observe(p.client, oc);
  observe(p.server, os);
  auto c = ae::handle::create(std::move(p.client));
  auto s = ae::handle::create(std::move(p.server));
  REQUIRE(run_until([&] { return oc.handshake_done() && os.handshake_done(); }));
  CHECK(oc.starttls_ok);
  CHECK(os.starttls_ok);
  CHECK(peer_common_name(*s) == "anyevent test client");
  CHECK(peer_common_name(*c) == "localhost");
  c->destroy();
  s->destroy();
}

TEST_CASE("tls/client/client_cert/handle_to_handle_missing") {
  auto p = socketpair_options(client_context(), asking_server(true));
  observed oc, os;
  observe(p.client, oc);
  observe(p.server, os);
  auto c = ae::handle::create(std::move(p.client));
  auto s = ae::handle::create(std::move(p.server));
  // The server fails the handshake; the client (TLS 1.3) hears the alert afterwards, as an
  // error after its own successful handshake or as a failed one.
  REQUIRE(run_until([&] { return os.handshake_done() && (oc.errors > 0 || (oc.starttls_calls > 0 && !oc.starttls_ok)); }));
  CHECK(os.starttls_calls == 1);
  CHECK_FALSE(os.starttls_ok);
  if (oc.errors > 0) CHECK(oc.ec == std::errc::protocol_error);
  c->destroy();
  s->destroy();
}
