// stoptls on a live pair: one side sends close_notify; the other gets on_stoptls (after which
// its session is gone) — or, without on_stoptls, the TLS shutdown counts as end-of-file.
// A side with on_stoptls answers with its own close_notify, which the side that started
// sees as the end of TLS (its on_stoptls). After that plain bytes flow both ways, unmangled.
#include "tls_support.hpp"

using namespace tls_test;

namespace {

struct live_pair {
  observed oc, os;
  std::shared_ptr<ae::handle> c, s;
  /// Handshake, then one round trip over TLS (so TLS 1.3 tickets and all are read).
  live_pair(bool client_stoptls_cb, bool server_stoptls_cb) {
    auto p = socketpair_options(client_context(), server_context());
    observe(p.client, oc, true, client_stoptls_cb);
    observe(p.server, os, true, server_stoptls_cb);
    c = ae::handle::create(std::move(p.client));
    s = ae::handle::create(std::move(p.server));
    REQUIRE(run_until([&] { return oc.handshake_done() && os.handshake_done(); }));
    REQUIRE(oc.starttls_ok);
    REQUIRE(os.starttls_ok);
    c->push_write("ping\n");
    REQUIRE(run_until([&] { return os.received == "ping\n" || os.errors > 0; }));
    s->push_write("pong\n");
    REQUIRE(run_until([&] { return oc.received == "pong\n" || oc.errors > 0; }));
    oc.received.clear();
    os.received.clear();
  }
  ~live_pair() {
    c->destroy();
    s->destroy();
  }
};

}  // namespace

TEST_CASE("tls/stoptls/client_stops_then_plain_both_ways") {
  live_pair p(true, true);
  p.c->stoptls();
  REQUIRE(run_until([&] { return (p.os.stoptls_calls > 0 && p.oc.stoptls_calls > 0) || p.os.errors > 0 || p.oc.errors > 0; }));
  CHECK(p.os.stoptls_calls == 1);
  CHECK(p.oc.stoptls_calls == 1);
  CHECK(p.os.errors == 0);
  CHECK(p.os.eof_calls == 0);
  CHECK(p.oc.eof_calls == 0);
  CHECK(p.s->tls() == nullptr);
  CHECK(p.c->tls() == nullptr);

  // Plain both ways: what arrives is exactly what was sent (no TLS record, no alert).
  INFO("client got [" << p.oc.received << "], server got [" << p.os.received << "]");
  p.s->push_write("plain from server\n");
  p.c->push_write("plain from client\n");
  REQUIRE(run_until([&] {
    return (p.oc.received.size() >= 18 && p.os.received.size() >= 18) || p.oc.errors > 0 || p.os.errors > 0;
  }));
  run_for(std::chrono::milliseconds(30));
  CHECK(p.oc.received == "plain from server\n");
  CHECK(p.os.received == "plain from client\n");
  CHECK(p.oc.errors == 0);
  CHECK(p.os.errors == 0);
  CHECK(p.oc.starttls_calls == 1);
  CHECK(p.os.starttls_calls == 1);
}

TEST_CASE("tls/stoptls/server_stops_then_plain_both_ways") {
  live_pair p(true, true);
  p.s->stoptls();
  REQUIRE(run_until([&] { return (p.oc.stoptls_calls > 0 && p.os.stoptls_calls > 0) || p.oc.errors > 0 || p.os.errors > 0; }));
  CHECK(p.oc.stoptls_calls == 1);
  CHECK(p.os.stoptls_calls == 1);
  CHECK(p.oc.errors == 0);
  CHECK(p.c->tls() == nullptr);
  CHECK(p.s->tls() == nullptr);
  INFO("client got [" << p.oc.received << "], server got [" << p.os.received << "]");
  p.c->push_write("after\n");
  p.s->push_write("AFTER\n");
  REQUIRE(run_until([&] { return (p.os.received.size() >= 6 && p.oc.received.size() >= 6) || p.os.errors || p.oc.errors; }));
  CHECK(p.os.received == "after\n");
  CHECK(p.oc.received == "AFTER\n");
}

TEST_CASE("tls/stoptls/without_on_stoptls_is_eof") {
  live_pair p(false, false);
  p.c->stoptls();
  REQUIRE(run_until([&] { return p.os.eof_calls > 0 || p.os.errors > 0; }));
  run_for(std::chrono::milliseconds(30));
  CHECK(p.os.eof_calls == 1);
  CHECK(p.os.errors == 0);
  CHECK(p.os.stoptls_calls == 0);
  CHECK(p.oc.errors == 0);
}

TEST_CASE("tls/stoptls/data_before_stoptls_arrives") {
  // Everything pushed before stoptls() goes out encrypted before the close_notify.
  live_pair p(true, true);
  const std::string big = pattern(300000, 7);
  p.c->push_write(big);
  p.c->stoptls();
  REQUIRE(run_until([&] { return p.os.stoptls_calls > 0 || p.os.errors > 0; }));
  CHECK(p.os.received.size() == big.size());
  CHECK(p.os.received == big);
  CHECK(p.os.errors == 0);
}

TEST_CASE("tls/stoptls/without_session_does_nothing") {
  // stoptls on a plain handle: nothing is sent, nothing breaks.
  auto sp = make_socketpair();
  observed o;
  ae::handle_options opts;
  opts.fd = std::move(sp.a);
  opts.linger = std::chrono::seconds(0);
  observe(opts, o, true, true);
  auto h = ae::handle::create(std::move(opts));
  h->stoptls();
  run_for(std::chrono::milliseconds(20));
  CHECK(read_available(sp.b.get()).empty());
  CHECK(o.errors == 0);
  CHECK(o.stoptls_calls == 0);
  CHECK(o.starttls_calls == 0);
  h->destroy();
}
