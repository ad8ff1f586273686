// ALPN: tls_options.alpn on both sides. A client offers its list; a server picks the first
// protocol of its own list that the client offers and fails the handshake when none
// matches; tls_alpn() is the choice ("" when there was no negotiation). Against
// `openssl s_server -alpn`, `openssl s_client -alpn` and handle-to-handle.
#include "tls_support.hpp"

using namespace tls_test;

namespace {

ae::tls_options with_alpn(ae::tls_options o, std::vector<std::string> protocols) {
  o.alpn = std::move(protocols);
  return o;
}

struct tls_pair {
  observed oc, os;
  std::shared_ptr<ae::handle> c, s;
  tls_pair(std::vector<std::string> client_alpn, std::vector<std::string> server_alpn) {
    auto p = socketpair_options(make_context(with_alpn(client_options(), std::move(client_alpn))),
                                make_context(with_alpn(server_options(), std::move(server_alpn))));
    observe(p.client, oc);
    observe(p.server, os);
    c = ae::handle::create(std::move(p.client));
    s = ae::handle::create(std::move(p.server));
    REQUIRE(run_until([&] { return oc.handshake_done() && os.handshake_done(); }));
    run_for(std::chrono::milliseconds(30));
  }
  ~tls_pair() {
    c->destroy();
    s->destroy();
  }
};

}  // namespace

TEST_CASE("tls/alpn/s_server") {
  auto args = server_cert_args();
  args.insert(args.end(), {"-rev", "-alpn", "h2,http/1.1"});
  s_server srv(args);
  ae::handle_options opts;
  opts.connect = {"localhost", srv.service()};
  opts.tls = ae::tls_mode::connect;
  opts.tls_ctx = make_context(with_alpn(client_options(), {"spdy/3", "http/1.1"}));
  opts.linger = std::chrono::seconds(0);
  observed o;
  observe(opts, o);
  auto h = ae::handle::create(std::move(opts));
  REQUIRE(run_until([&] { return o.handshake_done(); }));
  CHECK(o.starttls_ok);
  CHECK(h->tls_alpn() == "http/1.1");
  h->push_write("alpn\n");
  REQUIRE(run_until([&] { return o.received.find("npla") != std::string::npos || o.errors > 0; }));
  CHECK(o.errors == 0);
  h->destroy();
}

TEST_CASE("tls/alpn/s_server_without_alpn") {
  // The server does not negotiate: the handshake succeeds, nothing was chosen.
  auto args = server_cert_args();
  args.push_back("-rev");
  s_server srv(args);
  ae::handle_options opts;
  opts.connect = {"localhost", srv.service()};
  opts.tls = ae::tls_mode::connect;
  opts.tls_ctx = make_context(with_alpn(client_options(), {"h2"}));
  opts.linger = std::chrono::seconds(0);
  observed o;
  observe(opts, o);
  auto h = ae::handle::create(std::move(opts));
  REQUIRE(run_until([&] { return o.handshake_done(); }));
  CHECK(o.starttls_ok);
  CHECK(h->tls_alpn().empty());
  h->destroy();
}

TEST_CASE("tls/alpn/s_client") {
  std::vector<std::shared_ptr<ae::handle>> accepted;
  observed os;
  server srv([&](ae::fd sock, std::string, std::uint16_t) {
    auto opts = tls_handle(std::move(sock), ae::tls_mode::accept,
                           make_context(with_alpn(server_options(), {"h2", "http/1.1"})));
    observe(opts, os);
    accepted.push_back(ae::handle::create(std::move(opts)));
  });
  auto c = s_client(srv.port, {"-CAfile", certs().ca_cert, "-alpn", "http/1.1,h2"});
  REQUIRE(run_until([&] { return os.handshake_done(); }));
  CHECK(os.starttls_ok);
  REQUIRE(accepted.size() == 1);
  CHECK(accepted[0]->tls_alpn() == "h2");  // the server's preference
  CHECK(c->wait_output("ALPN protocol: h2"));
  for (auto& h : accepted) h->destroy();
}

TEST_CASE("tls/alpn/own_server_prefers_its_order") {
  tls_pair p({"http/1.1", "h2"}, {"h2", "http/1.1"});
  CHECK(p.oc.starttls_ok);
  CHECK(p.os.starttls_ok);
  CHECK(p.c->tls_alpn() == "h2");
  CHECK(p.s->tls_alpn() == "h2");
}

TEST_CASE("tls/alpn/own_server_single_common") {
  tls_pair p({"spdy/3", "http/1.1"}, {"h2", "http/1.1"});
  CHECK(p.oc.starttls_ok);
  CHECK(p.os.starttls_ok);
  CHECK(p.c->tls_alpn() == "http/1.1");
  CHECK(p.s->tls_alpn() == "http/1.1");
}

TEST_CASE("tls/alpn/own_server_mismatch_fails") {
  tls_pair p({"spdy/3"}, {"h2"});
  // The server refuses (no_application_protocol); the client learns it from the alert.
  CHECK(p.os.starttls_calls == 1);
  CHECK_FALSE(p.os.starttls_ok);
  CHECK(p.os.errors == 0);
  CHECK(p.oc.starttls_calls == 1);
  CHECK_FALSE(p.oc.starttls_ok);
  CHECK(p.s->destroyed());
  CHECK(p.c->destroyed());
}

TEST_CASE("tls/alpn/own_server_mismatch_on_error") {
  // Without on_starttls: one fatal EPROTO on the server side.
  auto p = socketpair_options(make_context(with_alpn(client_options(), {"spdy/3"})),
                              make_context(with_alpn(server_options(), {"h2"})));
  observed oc, os;
  observe(p.client, oc, false);
  observe(p.server, os, false);
  auto c = ae::handle::create(std::move(p.client));
  auto s = ae::handle::create(std::move(p.server));
  REQUIRE(run_until([&] { return oc.errors > 0 && os.errors > 0; }));
  run_for(std::chrono::milliseconds(30));
  CHECK(os.errors == 1);
  CHECK(os.fatal_errors == 1);
  CHECK(os.ec == std::errc::protocol_error);
  CHECK(oc.errors == 1);
  CHECK(oc.ec == std::errc::protocol_error);
}

TEST_CASE("tls/alpn/client_offers_none") {
  // A client that offers nothing is not refused by a server with a list (RFC 7301 §3.1:
  // the server only answers an offer).
  tls_pair p({}, {"h2"});
  CHECK(p.oc.starttls_ok);
  CHECK(p.os.starttls_ok);
  CHECK(p.c->tls_alpn().empty());
  CHECK(p.s->tls_alpn().empty());
}
