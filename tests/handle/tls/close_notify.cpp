// push_shutdown in TLS mode sends close_notify before the socket's write side is shut:
// `openssl s_server` (plain mode prints "DONE" for a clean TLS close and "ERROR" otherwise)
// and our own server (on_stoptls) see a clean TLS close. A bare TCP end-of-file is not a TLS
// shutdown: on_stoptls is not called for it.
#include "tls_support.hpp"

#include <sys/socket.h>

using namespace tls_test;

TEST_CASE("tls/close_notify/push_shutdown_while_connecting_s_server") {
  // push_write and push_shutdown right away, before the connection and the handshake.
  s_server srv(server_cert_args());  // plain mode: prints what it gets; stdin stays open
  observed o;
  ae::handle_options opts;
  opts.connect = {"localhost", srv.service()};
  opts.tls = ae::tls_mode::connect;
  opts.tls_ctx = client_context();
  opts.linger = std::chrono::seconds(5);
  observe(opts, o);
  auto h = ae::handle::create(std::move(opts));
  h->push_write("last words\n");
  h->push_shutdown();
  REQUIRE_MESSAGE(srv.wait_output("DONE"), srv.output());
  CHECK(srv.proc().printed("last words"));
  CHECK_FALSE(srv.proc().printed("ERROR"));
  CHECK(o.errors == 0);
  CHECK(o.starttls_ok);
  h->destroy();
}

TEST_CASE("tls/close_notify/push_shutdown_after_handshake_s_server") {
  s_server srv(server_cert_args());
  observed o;
  ae::handle_options opts;
  opts.connect = {"localhost", srv.service()};
  opts.tls = ae::tls_mode::connect;
  opts.tls_ctx = client_context();
  opts.linger = std::chrono::seconds(5);
  observe(opts, o);
  auto h = ae::handle::create(std::move(opts));
  REQUIRE(run_until([&] { return o.handshake_done(); }));
  REQUIRE(o.starttls_ok);
  h->push_write("last words\n");
  h->push_shutdown();
  REQUIRE_MESSAGE(srv.wait_output("DONE"), srv.output());
  CHECK(srv.proc().printed("last words"));
  CHECK_FALSE(srv.proc().printed("ERROR"));
  CHECK(o.errors == 0);
  h->destroy();
}

TEST_CASE("tls/close_notify/push_shutdown_during_handshake_nothing_queued") {
  // Nothing to send: close_notify still waits for the handshake (it cannot go before), and
  // the write side is shut only after it — which the server, back to plain after
  // on_stoptls, then sees as EOF.
  auto p = socketpair_options(client_context(), server_context());
  observed oc, os;
  observe(p.client, oc);
  observe(p.server, os, true, /*stoptls=*/true);
  auto c = ae::handle::create(std::move(p.client));
  auto s = ae::handle::create(std::move(p.server));
  c->push_shutdown();
  REQUIRE(run_until([&] { return os.stoptls_calls > 0 || os.errors > 0 || os.eof_calls > 0 || os.failed(); }));
  run_for(std::chrono::milliseconds(30));
  CHECK(oc.starttls_ok);
  CHECK_MESSAGE(os.starttls_ok, os.starttls_message);
  CHECK(os.stoptls_calls == 1);
  CHECK(os.errors == 0);
  REQUIRE(run_until([&] { return os.eof_calls > 0 || os.errors > 0; }));
  CHECK(os.eof_calls == 1);
  CHECK(os.errors == 0);
  c->destroy();
  s->destroy();
}

TEST_CASE("tls/close_notify/push_shutdown_own_server") {
  auto p = socketpair_options(client_context(), server_context());
  observed oc, os;
  observe(p.client, oc);
  observe(p.server, os, true, /*stoptls=*/true);
  auto c = ae::handle::create(std::move(p.client));
  auto s = ae::handle::create(std::move(p.server));
  c->push_write("bye\n");
  c->push_shutdown();
  REQUIRE(run_until([&] { return os.stoptls_calls > 0 || os.errors > 0 || os.eof_calls > 0; }));
  run_for(std::chrono::milliseconds(30));
  CHECK(os.received == "bye\n");
  CHECK(os.stoptls_calls == 1);
  CHECK(os.errors == 0);
  CHECK(oc.errors == 0);
  c->destroy();
  s->destroy();
}

TEST_CASE("tls/close_notify/tcp_eof_is_not_stoptls") {
  auto p = socketpair_options(client_context(), server_context());
  observed oc, os;
  observe(p.client, oc);
  observe(p.server, os, true, /*stoptls=*/true);
  auto c = ae::handle::create(std::move(p.client));
  auto s = ae::handle::create(std::move(p.server));
  REQUIRE(run_until([&] { return oc.handshake_done() && os.handshake_done(); }));
  c->push_write("then silence\n");
  REQUIRE(run_until([&] { return os.received == "then silence\n" || os.errors > 0; }));
  // The client's socket ends without close_notify.
  REQUIRE(::shutdown(c->fd(), SHUT_WR) == 0);
  REQUIRE(run_until([&] { return os.eof_calls > 0 || os.errors > 0; }));
  run_for(std::chrono::milliseconds(30));
  CHECK(os.stoptls_calls == 0);
  CHECK(os.eof_calls + os.errors == 1);
  c->destroy();
  s->destroy();
}

TEST_CASE("tls/close_notify/half_close_server_replies") {
  // The HTTP/1.0 pattern over TLS: the client sends its request and push_shutdown()s; the
  // server (no on_stoptls) sees EOF, answers under TLS, and the client, still reading,
  // gets the answer decrypted.
  auto p = socketpair_options(client_context(), server_context());
  observed oc, os;
  observe(p.client, oc);
  observe(p.server, os);
  p.server.on_eof = [&os](ae::handle& h) {
    ++os.eof_calls;
    h.push_write("answer to [" + os.received + "]\n");
  };
  auto c = ae::handle::create(std::move(p.client));
  auto s = ae::handle::create(std::move(p.server));
  c->push_write("request");
  c->push_shutdown();
  REQUIRE(run_until([&] { return oc.received == "answer to [request]\n" || oc.errors > 0 || os.errors > 0; }));
  CHECK(oc.received == "answer to [request]\n");
  CHECK(os.eof_calls == 1);
  CHECK(os.errors == 0);
  CHECK(oc.errors == 0);
  CHECK(c->tls() != nullptr);
  c->destroy();
  s->destroy();
}
