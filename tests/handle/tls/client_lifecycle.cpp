// A TLS handle's life around its handshake: destroying it (or dropping the last reference)
// inside on_starttls, wbuf_size() counting plaintext that waits for the handshake, and a
// retry from on_connect that drops the first connection's TLS state and starts afresh on
// the next target.
#include "tls_support.hpp"

using namespace tls_test;

TEST_CASE("tls/lifecycle/destroy_in_on_starttls_ok") {
  auto p = socketpair_options(client_context(), server_context());
  observed os;
  int calls = 0;
  p.client.on_starttls = [&](ae::handle& h, bool ok, std::string_view) {
    ++calls;
    CHECK(ok);
    h.destroy();
  };
  p.client.on_error = [&](ae::handle&, bool, std::error_code, std::string_view) { FAIL("on_error after destroy"); };
  observe(p.server, os);
  auto c = ae::handle::create(std::move(p.client));
  auto s = ae::handle::create(std::move(p.server));
  c->push_write("never mind\n");
  REQUIRE(run_until([&] { return calls > 0; }));
  run_for(std::chrono::milliseconds(50));
  CHECK(calls == 1);
  CHECK(c->destroyed());
  CHECK(c->fd() == -1);
  s->destroy();
}

TEST_CASE("tls/lifecycle/drop_last_reference_in_on_starttls_failure") {
  // The only reference is dropped from inside the failure callback.
  s_server srv({"-cert", certs().self_cert, "-key", certs().self_key, "-rev"});
  int calls = 0;
  std::shared_ptr<ae::handle> h;
  ae::handle_options opts;
  opts.connect = {"localhost", srv.service()};
  opts.tls = ae::tls_mode::connect;
  opts.tls_ctx = client_context();
  opts.linger = std::chrono::seconds(0);
  opts.on_starttls = [&](ae::handle&, bool ok, std::string_view) {
    ++calls;
    CHECK_FALSE(ok);
    h.reset();
  };
  opts.on_error = [&](ae::handle&, bool, std::error_code, std::string_view) { FAIL("on_error with on_starttls set"); };
  h = ae::handle::create(std::move(opts));
  REQUIRE(run_until([&] { return calls > 0; }));
  run_for(std::chrono::milliseconds(50));
  CHECK(calls == 1);
  CHECK(h == nullptr);
}

TEST_CASE("tls/lifecycle/drop_last_reference_in_on_error") {
  s_server srv({"-cert", certs().other_cert, "-key", certs().other_key, "-rev"});
  int calls = 0;
  std::shared_ptr<ae::handle> h;
  ae::handle_options opts;
  opts.connect = {"localhost", srv.service()};
  opts.tls = ae::tls_mode::connect;
  opts.tls_ctx = client_context();
  opts.linger = std::chrono::seconds(0);
  opts.on_error = [&](ae::handle&, bool fatal, std::error_code ec, std::string_view) {
    ++calls;
    CHECK(fatal);
    CHECK(ec == std::errc::protocol_error);
    h.reset();
  };
  h = ae::handle::create(std::move(opts));
  REQUIRE(run_until([&] { return calls > 0; }));
  run_for(std::chrono::milliseconds(50));
  CHECK(calls == 1);
}

TEST_CASE("tls/lifecycle/wbuf_size_counts_waiting_plaintext") {
  auto p = socketpair_options(client_context(), server_context());
  observed oc, os;
  observe(p.client, oc);
  observe(p.server, os);
  auto c = ae::handle::create(std::move(p.client));
  const std::string data(5000, 'w');
  c->push_write(data);  // the handshake has not even begun to be answered
  CHECK(c->wbuf_size() >= data.size());
  auto s = ae::handle::create(std::move(p.server));
  REQUIRE(run_until([&] { return os.received.size() == data.size() || os.errors > 0 || oc.errors > 0; }));
  CHECK(os.received == data);
  REQUIRE(run_until([&] { return c->wbuf_size() == 0; }));
  c->destroy();
  s->destroy();
}

TEST_CASE("tls/lifecycle/retry_restarts_tls_on_next_target") {
  // "localhost" is 127.0.0.1 and ::1; our TLS server listens on both (dual-stack "::"). The
  // first connection is dropped from on_connect with retry(); TLS starts afresh on the
  // second, verifies "localhost" again and succeeds exactly once.
  if (!have_ipv6_loopback()) {
    MESSAGE("no IPv6 loopback here: skipped");
    return;
  }
  struct conn {
    observed o;
    std::shared_ptr<ae::handle> h;
  };
  std::vector<std::unique_ptr<conn>> accepted;
  std::uint16_t port = 0;
  auto srv = ae::tcp_server(
      "", "0",
      [&](ae::fd sock, std::string, std::uint16_t) {
        auto& c = *accepted.emplace_back(std::make_unique<conn>());
        auto opts = tls_handle(std::move(sock), ae::tls_mode::accept, server_context());
        observe(opts, c.o);
        c.h = ae::handle::create(std::move(opts));
      },
      [&](int, std::string, std::uint16_t p) {
        port = p;
        return 0;
      });
  observed o;
  std::vector<std::string> hosts;
  ae::handle_options opts;
  opts.connect = {"localhost", std::to_string(port)};
  opts.tls = ae::tls_mode::connect;
  opts.tls_ctx = client_context();
  opts.linger = std::chrono::seconds(0);
  opts.on_connect = [&](ae::handle&, std::string host, std::uint16_t, ae::retry_fn retry) {
    hosts.push_back(host);
    if (hosts.size() == 1) retry();
  };
  observe(opts, o);
  auto h = ae::handle::create(std::move(opts));
  h->push_write("before retry\n");  // queued before: dropped with the first connection
  REQUIRE(run_until([&] { return o.handshake_done(); }));
  run_for(std::chrono::milliseconds(50));
  INFO("error: " << o.ec.message() << ": " << o.error_message);
  REQUIRE(hosts.size() == 2);
  CHECK(hosts[0] != hosts[1]);
  CHECK(o.starttls_calls == 1);
  CHECK(o.starttls_ok);
  CHECK(o.errors == 0);
  h->push_write("after retry\n");
  REQUIRE(run_until([&] {
    for (auto& c : accepted)
      if (c->o.received.find("after retry\n") != std::string::npos) return true;
    return o.errors > 0;
  }));
  int ok = 0;
  for (auto& c : accepted) {
    if (c->o.starttls_ok) ++ok;
    CHECK(c->o.received.find("before retry") == std::string::npos);
  }
  CHECK(ok == 1);
  h->destroy();
  for (auto& c : accepted) c->h->destroy();
}
