// Certificate verification on the client side, against `openssl s_server`: an untrusted
// chain and a name the certificate does not carry are fatal EPROTO errors (through
// on_error, or on_starttls(false, message) when that is set, then on_error is not called);
// an IP peername is matched against the IP SANs; verify = false and verify_peername = false
// switch the checks off.
#include "tls_support.hpp"

using namespace tls_test;

namespace {

std::vector<std::string> rev_with(const std::string& cert, const std::string& key) {
  return {"-cert", cert, "-key", key, "-rev"};
}

/// Connects to host:port with TLS (ctx empty: the default context) and waits for the end of
/// the handshake (and a little more, to see that nothing is reported twice).
std::shared_ptr<ae::handle> connect_tls(observed& o, const std::string& host, const s_server& srv,
                                        std::shared_ptr<ae::tls_context> ctx, bool with_on_starttls,
                                        std::string peername = {}) {
  ae::handle_options opts;
  opts.connect = {host, srv.service()};
  opts.tls = ae::tls_mode::connect;
  opts.tls_ctx = std::move(ctx);
  opts.peername = std::move(peername);
  opts.linger = std::chrono::seconds(0);
  observe(opts, o, with_on_starttls);
  auto h = ae::handle::create(std::move(opts));
  REQUIRE(run_until([&] { return o.handshake_done(); }));
  run_for(std::chrono::milliseconds(50));
  return h;
}

/// A fatal EPROTO through on_error, once, and nothing else.
void check_fatal_eproto(const observed& o, const ae::handle& h) {
  CHECK(o.errors == 1);
  CHECK(o.fatal_errors == 1);
  CHECK(o.ec == std::errc::protocol_error);
  CHECK_FALSE(o.error_message.empty());
  CHECK(o.eof_calls == 0);
  CHECK(h.destroyed());
}

bool mentions_verification(std::string_view m) {
  return contains_nocase(m, "certificate") && contains_nocase(m, "verif");
}

}  // namespace

TEST_CASE("tls/client/verify/untrusted_default_context") {
  // The default context trusts the system store only: our self-signed server is refused.
  s_server srv(rev_with(certs().self_cert, certs().self_key));
  observed o;
  auto h = connect_tls(o, "localhost", srv, nullptr, /*with_on_starttls=*/false);
  check_fatal_eproto(o, *h);
  CHECK_MESSAGE(mentions_verification(o.error_message), o.error_message);
}

TEST_CASE("tls/client/verify/untrusted_default_context_ca_signed") {
  // Our CA is not in the system store either: a chain to it is refused by default.
  s_server srv(rev_with(certs().server_cert, certs().server_key));
  observed o;
  auto h = connect_tls(o, "localhost", srv, nullptr, false);
  check_fatal_eproto(o, *h);
  CHECK_MESSAGE(mentions_verification(o.error_message), o.error_message);
}

TEST_CASE("tls/client/verify/untrusted_on_starttls") {
  // With on_starttls the failure goes there, and on_error is not called.
  s_server srv(rev_with(certs().self_cert, certs().self_key));
  observed o;
  auto h = connect_tls(o, "localhost", srv, client_context(), /*with_on_starttls=*/true);
  CHECK(o.starttls_calls == 1);
  CHECK_FALSE(o.starttls_ok);
  CHECK_MESSAGE(mentions_verification(o.starttls_message), o.starttls_message);
  CHECK(o.errors == 0);
  CHECK(o.eof_calls == 0);
  CHECK(h->destroyed());
}

TEST_CASE("tls/client/verify/self_signed_with_our_ca") {
  s_server srv(rev_with(certs().self_cert, certs().self_key));
  observed o;
  auto h = connect_tls(o, "localhost", srv, client_context(), false);
  check_fatal_eproto(o, *h);
  CHECK_MESSAGE(mentions_verification(o.error_message), o.error_message);
}

TEST_CASE("tls/client/verify/hostname_mismatch") {
  // A good chain for "other.test" only; we asked for "localhost".
  s_server srv(rev_with(certs().other_cert, certs().other_key));
  observed o;
  auto h = connect_tls(o, "localhost", srv, client_context(), false);
  check_fatal_eproto(o, *h);
  CHECK_MESSAGE((mentions_verification(o.error_message) || contains_nocase(o.error_message, "mismatch")),
                o.error_message);
}

TEST_CASE("tls/client/verify/hostname_mismatch_on_starttls") {
  s_server srv(rev_with(certs().other_cert, certs().other_key));
  observed o;
  auto h = connect_tls(o, "localhost", srv, client_context(), true);
  CHECK(o.starttls_calls == 1);
  CHECK_FALSE(o.starttls_ok);
  CHECK_FALSE(o.starttls_message.empty());
  CHECK(o.errors == 0);
  CHECK(h->destroyed());
}

TEST_CASE("tls/client/verify/ip_matches_ip_san") {
  s_server srv(rev_with(certs().server_cert, certs().server_key));
  observed o;
  auto h = connect_tls(o, "127.0.0.1", srv, client_context(), true);
  CHECK(o.starttls_calls == 1);
  CHECK(o.starttls_ok);
  CHECK(o.errors == 0);
  h->push_write("by address\n");
  REQUIRE(run_until([&] { return o.received.find("sserdda yb") != std::string::npos || o.errors > 0; }));
  h->destroy();
}

TEST_CASE("tls/client/verify/ip_not_in_san") {
  // other.test's certificate has no IP SAN: 127.0.0.1 must not match its DNS name.
  s_server srv(rev_with(certs().other_cert, certs().other_key));
  observed o;
  auto h = connect_tls(o, "127.0.0.1", srv, client_context(), false);
  check_fatal_eproto(o, *h);
}

TEST_CASE("tls/client/verify/peername_option") {
  // peername overrides the connect host for verification: 127.0.0.1, checked as other.test.
  s_server srv(rev_with(certs().other_cert, certs().other_key));
  observed o;
  auto h = connect_tls(o, "127.0.0.1", srv, client_context(), true, "other.test");
  CHECK(o.starttls_ok);
  CHECK(o.errors == 0);
  CHECK(h->peername() == "other.test");
  h->destroy();
}

TEST_CASE("tls/client/verify/disabled_accepts_untrusted") {
  s_server srv(rev_with(certs().self_cert, certs().self_key));
  ae::tls_options opt;
  opt.verify = false;
  observed o;
  auto h = connect_tls(o, "localhost", srv, make_context(std::move(opt)), true);
  CHECK(o.starttls_calls == 1);
  CHECK(o.starttls_ok);
  CHECK(o.errors == 0);
  h->push_write("anyone\n");
  REQUIRE(run_until([&] { return o.received.find("enoyna") != std::string::npos || o.errors > 0; }));
  CHECK(o.errors == 0);
  h->destroy();
}

TEST_CASE("tls/client/verify/peername_check_off") {
  // verify_peername = false: the chain is still checked, the name is not.
  s_server srv(rev_with(certs().other_cert, certs().other_key));
  auto opt = client_options();
  opt.verify_peername = false;
  observed o;
  auto h = connect_tls(o, "localhost", srv, make_context(std::move(opt)), true);
  CHECK(o.starttls_ok);
  CHECK(o.errors == 0);
  h->destroy();

  s_server untrusted(rev_with(certs().self_cert, certs().self_key));
  auto opt2 = client_options();
  opt2.verify_peername = false;
  observed o2;
  auto h2 = connect_tls(o2, "localhost", untrusted, make_context(std::move(opt2)), true);
  CHECK(o2.starttls_calls == 1);
  CHECK_FALSE(o2.starttls_ok);
}

TEST_CASE("tls/client/verify/min_version_1_3_vs_tls1_2_server") {
  auto args = rev_with(certs().server_cert, certs().server_key);
  args.push_back("-tls1_2");
  s_server srv(args);
  auto opt = client_options();
  opt.min_version = ae::tls_version::tls1_3;
  observed o;
  auto h = connect_tls(o, "localhost", srv, make_context(std::move(opt)), false);
  check_fatal_eproto(o, *h);
}

TEST_CASE("tls/client/verify/no_peername_checks_chain_only") {
  // A handle over a descriptor with no peername: the chain is verified, no name is.
  {
    auto p = socketpair_options(client_context(), make_context([] {
                                  auto o = server_options();
                                  o.cert_file = certs().other_cert;
                                  o.key_file = certs().other_key;
                                  return o;
                                }()),
                                "");
    observed oc, os;
    observe(p.client, oc);
    observe(p.server, os);
    auto c = ae::handle::create(std::move(p.client));
    auto s = ae::handle::create(std::move(p.server));
    REQUIRE(run_until([&] { return oc.handshake_done() && os.handshake_done(); }));
    CHECK(oc.starttls_ok);
    CHECK(os.starttls_ok);
    c->destroy();
    s->destroy();
  }
  {
    auto so = server_options();
    so.cert_file = certs().self_cert;
    so.key_file = certs().self_key;
    auto p = socketpair_options(client_context(), make_context(std::move(so)), "");
    observed oc, os;
    observe(p.client, oc);
    observe(p.server, os);
    auto c = ae::handle::create(std::move(p.client));
    auto s = ae::handle::create(std::move(p.server));
    REQUIRE(run_until([&] { return oc.handshake_done(); }));
    CHECK(oc.starttls_calls == 1);
    CHECK_FALSE(oc.starttls_ok);
    c->destroy();
    s->destroy();
  }
}
