// SNI: a client sends its peername as server name when it is a DNS name, never when it is an
// IP address (RFC 6066 §3). Seen from `openssl s_server -servername` (it prints the name it
// got, and with -servername_fatal refuses another one) and from our own server side through
// tls_server_name().
#include "tls_support.hpp"

using namespace tls_test;

namespace {

/// s_server that prints the SNI it receives and switches to cert2 (the same certificate) when
/// it is `expected`; with `fatal`, any other name is refused with a fatal alert. It serves
/// one connection and exits. Plain mode
/// (it prints what it receives): -rev mode does not flush the SNI line.
s_server sni_server(const std::string& expected, bool fatal) {
  std::vector<std::string> a = {"-cert",  certs().server_cert, "-key",        certs().server_key,
                                "-cert2", certs().server_cert, "-key2",       certs().server_key,
                                "-servername", expected,             "-naccept",   "1"};
  if (fatal) a.push_back("-servername_fatal");
  return s_server(a);
}

std::shared_ptr<ae::handle> connect_tls(observed& o, const std::string& host, std::uint16_t port) {
  ae::handle_options opts;
  opts.connect = {host, std::to_string(port)};
  opts.tls = ae::tls_mode::connect;
  opts.tls_ctx = client_context();
  opts.linger = std::chrono::seconds(0);
  observe(opts, o);
  auto h = ae::handle::create(std::move(opts));
  REQUIRE(run_until([&] { return o.handshake_done(); }));
  return h;
}

}  // namespace

TEST_CASE("tls/sni/s_server_sees_peername") {
  auto srv = sni_server("localhost", false);
  observed o;
  auto h = connect_tls(o, "localhost", srv.port());
  CHECK(o.starttls_ok);
  REQUIRE(srv.wait_output("Hostname in TLS extension"));
  CHECK_MESSAGE(srv.proc().printed("Hostname in TLS extension: \"localhost\""), srv.output());
  h->destroy();
}

TEST_CASE("tls/sni/none_for_ip_peername") {
  auto srv = sni_server("localhost", false);
  observed o;
  auto h = connect_tls(o, "127.0.0.1", srv.port());
  CHECK(o.starttls_ok);
  // Once s_server prints what we sent, it has certainly handled the ClientHello.
  h->push_write("ping over tls\n");
  REQUIRE(srv.wait_output("ping over tls"));
  CHECK_FALSE(srv.proc().printed("Hostname in TLS extension"));
  h->destroy();
}

TEST_CASE("tls/sni/servername_fatal_mismatch") {
  // The server wants "other.test" and refuses our "localhost": the name was sent.
  auto srv = sni_server("other.test", true);
  observed o;
  auto h = connect_tls(o, "localhost", srv.port());
  CHECK(o.starttls_calls == 1);
  CHECK_FALSE(o.starttls_ok);
  CHECK(o.errors == 0);
  // s_server flushes that line only when it is done: -naccept 1 makes it exit.
  CHECK(srv.proc().wait_exit());
  CHECK_MESSAGE(srv.proc().printed("Hostname in TLS extension: \"localhost\""), srv.output());
}

TEST_CASE("tls/sni/servername_fatal_match") {
  auto srv = sni_server("localhost", true);
  observed o;
  auto h = connect_tls(o, "localhost", srv.port());
  CHECK(o.starttls_ok);
  CHECK(o.errors == 0);
  h->destroy();
}

TEST_CASE("tls/sni/own_server_dns_name") {
  auto p = socketpair_options(client_context(), server_context(), "localhost");
  observed oc, os;
  observe(p.client, oc);
  std::string seen = "(not called)";
  observe(p.server, os);
  p.server.on_starttls = [&](ae::handle& h, bool ok, std::string_view) {
    ++os.starttls_calls;
    os.starttls_ok = ok;
    seen = std::string(h.tls_server_name());
  };
  auto c = ae::handle::create(std::move(p.client));
  auto s = ae::handle::create(std::move(p.server));
  REQUIRE(run_until([&] { return oc.handshake_done() && os.handshake_done(); }));
  CHECK(oc.starttls_ok);
  CHECK(os.starttls_ok);
  CHECK(seen == "localhost");
  CHECK(s->tls_server_name() == "localhost");
  CHECK(c->tls_server_name().empty());  // a client has none of its own
  c->destroy();
  s->destroy();
}

TEST_CASE("tls/sni/own_server_ip_peername") {
  auto p = socketpair_options(client_context(), server_context(), "127.0.0.1");
  observed oc, os;
  observe(p.client, oc);
  observe(p.server, os);
  auto c = ae::handle::create(std::move(p.client));
  auto s = ae::handle::create(std::move(p.server));
  REQUIRE(run_until([&] { return oc.handshake_done() && os.handshake_done(); }));
  CHECK(oc.starttls_ok);
  CHECK(os.starttls_ok);
  CHECK(s->tls_server_name().empty());
  c->destroy();
  s->destroy();
}

TEST_CASE("tls/sni/own_server_from_s_client") {
  struct conn {
    observed o;
    std::string seen = "(not called)";
    std::shared_ptr<ae::handle> h;
  };
  std::vector<std::unique_ptr<conn>> accepted;
  server srv([&](ae::fd sock, std::string, std::uint16_t) {
    auto& c = *accepted.emplace_back(std::make_unique<conn>());
    auto opts = tls_handle(std::move(sock), ae::tls_mode::accept, server_context());
    observe(opts, c.o);
    opts.on_starttls = [&c](ae::handle& h, bool ok, std::string_view) {
      ++c.o.starttls_calls;
      c.o.starttls_ok = ok;
      c.seen = std::string(h.tls_server_name());
    };
    c.h = ae::handle::create(std::move(opts));
  });
  {
    auto client = s_client(srv.port, {"-CAfile", certs().ca_cert, "-servername", "sni.example.test"});
    REQUIRE(run_until([&] { return accepted.size() == 1 && accepted[0]->o.handshake_done(); }));
    CHECK(accepted[0]->o.starttls_ok);
    CHECK(accepted[0]->seen == "sni.example.test");
  }
  {
    auto client = s_client(srv.port, {"-CAfile", certs().ca_cert, "-noservername"});
    REQUIRE(run_until([&] { return accepted.size() == 2 && accepted[1]->o.handshake_done(); }));
    CHECK(accepted[1]->o.starttls_ok);
    CHECK(accepted[1]->seen.empty());
  }
  for (auto& c : accepted) c->h->destroy();
}
