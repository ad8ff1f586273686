// Destroying tcp_connect's guard cancels the attempt at every stage; the callback never
// runs afterwards and no descriptor stays open.
#include "tcp_support.hpp"

#include <fstream>
#include <vector>

using namespace net_test;


TEST_CASE("tcp_connect/cancel_at_once") {
  // For a numeric host the socket exists when tcp_connect returns; the guard closes it.
  const long before = open_fds();
  int calls = 0;
  auto g = ae::tcp_connect("127.0.0.1", "9", [&](std::error_code, ae::fd) { ++calls; });
  g.reset();
  CHECK(open_fds() == before);
  run_for(50ms);
  CHECK(calls == 0);
  CHECK(open_fds() == before);
}

TEST_CASE("tcp_connect/cancel_before_failure_report") {
  // A unix path that does not exist fails inside tcp_connect; the report waits for the
  // loop, and a guard destroyed before then suppresses it.
  int calls = 0;
  auto g = ae::tcp_connect("unix/", "/nonexistent/ae-test.sock", [&](std::error_code, ae::fd) { ++calls; });
  g.reset();
  run_for(50ms);
  CHECK(calls == 0);
}

TEST_CASE("tcp_connect/cancel_while_connecting") {
  hanging_port hp;
  const long before = open_fds();
  int calls = 0, prepares = 0;
  auto g = ae::tcp_connect("127.0.0.1", std::to_string(hp.port), [&](std::error_code, ae::fd) { ++calls; },
                           [&](int) {
                             ++prepares;
                             return ae::duration::zero();
                           });
  REQUIRE(run_until([&] { return prepares == 1; }));
  run_for(50ms);
  CHECK(calls == 0);
  CHECK(open_fds() == before + 1);  // the socket in SYN-SENT
  g.reset();
  CHECK(open_fds() == before);
  run_for(50ms);
  CHECK(calls == 0);
}

TEST_CASE("tcp_connect/cancel_inside_prepare") {
  // Two targets that refuse: the first prepare runs inside tcp_connect (numeric hosts
  // need no lookup), the second — after the first refusal — destroys the guard.
  temp_dir dir;
  {
    std::ofstream(dir / "hosts") << "127.0.0.1 refusing.test\n127.0.0.2 refusing.test\n";
  }
  scoped_env env("ANYEVENT_HOSTS", dir / "hosts");
  std::uint16_t port = 0;
  ae::fd holder = refusing_socket(port);
  const long before = open_fds();
  int calls = 0, prepares = 0;
  ae::guard g;
  g = ae::tcp_connect("refusing.test", std::to_string(port), [&](std::error_code, ae::fd) { ++calls; },
                      [&](int) {
                        if (++prepares == 2) g.reset();
                        return ae::duration::zero();
                      });
  REQUIRE(run_until([&] { return prepares == 2; }));
  run_for(50ms);
  CHECK_FALSE(g);
  CHECK(calls == 0);
  CHECK(open_fds() == before);
}

TEST_CASE("tcp_connect/cancel_after_connect") {
  std::uint16_t port = 0;
  std::vector<ae::fd> accepted;
  auto server = ae::tcp_server("127.0.0.1", "0", [&](ae::fd f, std::string, std::uint16_t) {
    accepted.push_back(std::move(f));
  }, [&](int, std::string, std::uint16_t p) {
    port = p;
    return 0;
  });
  int calls = 0;
  ae::fd client;
  ae::retry_fn saved_retry;
  auto g = ae::tcp_connect("127.0.0.1", std::to_string(port),
                           [&](std::error_code ec, ae::fd f, std::string, std::uint16_t, ae::retry_fn retry) {
                             ++calls;
                             CHECK_FALSE(ec);
                             client = std::move(f);
                             saved_retry = std::move(retry);
                           });
  REQUIRE(run_until([&] { return calls == 1; }));
  g.reset();         // after the callback: nothing to cancel, the socket stays ours
  saved_retry();     // the guard is gone: retry must do nothing
  run_for(50ms);
  CHECK(calls == 1);
  CHECK(client);
}

TEST_CASE("tcp_connect/cancel_inside_callback") {
  std::uint16_t port = 0;
  ae::fd holder = refusing_socket(port);
  int calls = 0;
  ae::guard g;
  g = ae::tcp_connect("127.0.0.1", std::to_string(port), [&](std::error_code ec, ae::fd) {
    ++calls;
    CHECK(ec == std::errc::connection_refused);
    g.reset();
  });
  REQUIRE(run_until([&] { return calls > 0; }));
  run_for(30ms);
  CHECK(calls == 1);
}
