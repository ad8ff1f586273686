// A TLS client handle against `openssl s_server -rev` (it answers each line reversed): the
// handshake succeeds with our CA and the name "localhost" (or the address 127.0.0.1 / ::1,
// which the certificate carries as IP SANs), on_starttls reports it once, and data makes
// the round trip — also data queued while still connecting.
#include "tls_support.hpp"

#include <openssl/ssl.h>

using namespace tls_test;

namespace {

std::vector<std::string> rev_args() {
  auto a = server_cert_args();
  a.push_back("-rev");
  return a;
}

/// Connects to `host`:port with TLS and our CA; waits for the handshake.
std::shared_ptr<ae::handle> connect_tls(const std::string& host, const s_server& srv, observed& o) {
  ae::handle_options opts;
  opts.connect = {host, srv.service()};
  opts.tls = ae::tls_mode::connect;
  opts.tls_ctx = client_context();
  opts.linger = std::chrono::seconds(0);
  observe(opts, o);
  auto h = ae::handle::create(std::move(opts));
  REQUIRE(run_until([&] { return o.handshake_done(); }));
  return h;
}

}  // namespace

TEST_CASE("tls/client/verify_ok") {
  s_server srv(rev_args());
  observed o;
  auto h = connect_tls("localhost", srv, o);
  CHECK(o.starttls_calls == 1);
  CHECK(o.starttls_ok);
  CHECK(o.errors == 0);
  REQUIRE(h->tls() != nullptr);
  CHECK(h->peername() == "localhost");
  CHECK(peer_common_name(*h) == "localhost");
  CHECK(SSL_get_verify_result(h->tls()) == X509_V_OK);

  h->push_write("hello tls\n");
  REQUIRE(run_until([&] { return o.received.find("slt olleh") != std::string::npos || o.errors > 0; }));
  h->push_write("second line\n");
  REQUIRE(run_until([&] { return o.received.find("enil dnoces") != std::string::npos || o.errors > 0; }));
  CHECK(o.errors == 0);
  run_for(std::chrono::milliseconds(50));
  CHECK(o.starttls_calls == 1);  // once, not per record
  h->destroy();
}

TEST_CASE("tls/client/typed_reads") {
  // push_read works on the decrypted stream: a line, then a chunk of exact size.
  s_server srv(rev_args());
  observed o;
  ae::handle_options opts;
  opts.connect = {"localhost", srv.service()};
  opts.tls = ae::tls_mode::connect;
  opts.tls_ctx = client_context();
  opts.linger = std::chrono::seconds(0);
  observe(opts, o, true, false, /*read_all=*/false);
  auto h = ae::handle::create(std::move(opts));
  std::string line, chunk;
  h->push_write("abc\n0123456789\n");
  h->push_read(ae::line(), [&](ae::handle&, std::string_view l) { line = std::string(l); });
  h->push_read(ae::chunk(5), [&](ae::handle&, std::string_view c) { chunk = std::string(c); });
  REQUIRE(run_until([&] { return !chunk.empty() || o.errors > 0; }));
  CHECK(o.errors == 0);
  CHECK(o.starttls_ok);
  CHECK(line == "cba");
  CHECK(chunk == "98765");
  h->destroy();
}

TEST_CASE("tls/client/write_before_handshake") {
  // Written while connecting and handshaking: sent once TLS is up, nothing in clear.
  s_server srv(rev_args());
  observed o;
  ae::handle_options opts;
  opts.connect = {"localhost", srv.service()};
  opts.tls = ae::tls_mode::connect;
  opts.tls_ctx = client_context();
  opts.linger = std::chrono::seconds(0);
  observe(opts, o);
  auto h = ae::handle::create(std::move(opts));
  h->push_write("early bird\n");
  REQUIRE(run_until([&] { return o.received.find("drib ylrae") != std::string::npos || o.errors > 0; }));
  CHECK(o.errors == 0);
  CHECK(o.starttls_calls == 1);
  CHECK(o.starttls_ok);
  h->destroy();
}

TEST_CASE("tls/client/ip_peername_ipv4") {
  s_server srv(rev_args());
  observed o;
  auto h = connect_tls("127.0.0.1", srv, o);
  CHECK(o.errors == 0);
  CHECK(o.starttls_ok);
  CHECK(h->peername() == "127.0.0.1");
  h->push_write("ip\n");
  REQUIRE(run_until([&] { return o.received.find("pi") != std::string::npos || o.errors > 0; }));
  CHECK(o.errors == 0);
  h->destroy();
}

TEST_CASE("tls/client/ip_peername_ipv6") {
  if (!have_ipv6_loopback()) {
    MESSAGE("no IPv6 loopback here: skipped");
    return;
  }
  s_server srv(rev_args(), {}, "::1");
  observed o;
  auto h = connect_tls("::1", srv, o);
  CHECK(o.errors == 0);
  CHECK(o.starttls_ok);
  h->push_write("six\n");
  REQUIRE(run_until([&] { return o.received.find("xis") != std::string::npos || o.errors > 0; }));
  CHECK(o.errors == 0);
  h->destroy();
}
