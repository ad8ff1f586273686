// Writing to a peer that closed: a fatal EPIPE (ECONNRESET is what TCP may say instead once
// the peer's RST arrived), and no SIGPIPE — the process is not killed, the signal is not even
// raised (MSG_NOSIGNAL), and the SIGPIPE disposition is left as it was
// (docs/special-problems.md). sigpipe_watch keeps SIGPIPE at its default but blocked, so a
// raised one shows as pending instead of killing the test program.
#include "support.hpp"

using namespace handle_test;

TEST_CASE("handle/write_epipe/socketpair") {
  sigpipe_watch sig;
  auto p = make_socketpair();
  recorder rec;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error()});
  p.b.reset();
  h->push_write("into the void");
  REQUIRE(run_until([&] { return !rec.errors.empty(); }));
  REQUIRE(rec.errors.size() == 1);
  CHECK(rec.errors[0].fatal);
  CHECK(rec.errors[0].ec == std::errc::broken_pipe);
  CHECK(h->destroyed());
  CHECK_FALSE(sig.raised());
  CHECK(sig.disposition_default());
}

TEST_CASE("handle/write_epipe/push_write_inside_on_error") {
  // A last word from on_error to a peer that is gone fails again: that second EPIPE must
  // neither call on_error again (it is still running) nor escape as an exception; the
  // handle ends once, as the first error said.
  sigpipe_watch sig;
  auto p = make_socketpair();
  std::vector<std::error_code> seen;
  bool destroyed_after_write = false;
  auto h = ae::handle::create({.fd = std::move(p.a),
                               .on_error = [&](ae::handle& hh, bool, std::error_code ec, std::string_view) {
                                 seen.push_back(ec);
                                 hh.push_write("goodbye");
                                 destroyed_after_write = hh.destroyed();
                               }});
  p.b.reset();
  CHECK_NOTHROW(h->push_write("into the void"));
  REQUIRE(run_until([&] { return !seen.empty(); }));
  run_for(20ms);
  REQUIRE(seen.size() == 1);
  CHECK(seen[0] == std::errc::broken_pipe);
  CHECK(destroyed_after_write);  // the nested failure is fatal too
  CHECK(h->destroyed());
  CHECK_FALSE(sig.raised());
}

TEST_CASE("handle/write_epipe/tcp") {
  sigpipe_watch sig;
  ae::fd accepted;
  std::uint16_t port = 0;
  auto server = ae::tcp_server(
      "127.0.0.1", "0", [&](ae::fd f, std::string, std::uint16_t) { accepted = std::move(f); },
      [&](int, std::string, std::uint16_t p) {
        port = p;
        return 0;
      });
  REQUIRE(port != 0);
  recorder rec;
  bool connected = false;
  auto h = ae::handle::create({.connect = {"127.0.0.1", std::to_string(port)},
                               .on_connect = [&](ae::handle&) { connected = true; },
                               .on_error = rec.on_error()});
  REQUIRE(run_until([&] { return connected && accepted; }));
  accepted.reset();  // the peer goes away
  // Keep writing: the first write may still be accepted (the peer's RST comes back to it).
  ae::timer more(1ms, 5ms, [&] {
    if (!h->destroyed()) h->push_write("ping");
  });
  REQUIRE(run_until([&] { return !rec.errors.empty(); }));
  REQUIRE(rec.errors.size() == 1);
  CHECK(rec.errors[0].fatal);
  const bool pipe_or_reset =
      rec.errors[0].ec == std::errc::broken_pipe || rec.errors[0].ec == std::errc::connection_reset;
  CHECK(pipe_or_reset);
  CHECK(h->destroyed());
  CHECK_FALSE(sig.raised());
  CHECK(sig.disposition_default());
}
