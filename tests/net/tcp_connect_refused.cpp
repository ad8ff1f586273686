// A port nobody listens on: the callback gets ECONNREFUSED and no descriptor.
#include "tcp_support.hpp"

using namespace net_test;

TEST_CASE("tcp_connect/refused") {
  std::uint16_t port = 0;
  ae::fd holder = refusing_socket(port);
  int calls = 0;
  std::error_code got;
  bool fd_given = true;
  std::string host = "?";
  auto g = ae::tcp_connect("127.0.0.1", std::to_string(port),
                           [&](std::error_code ec, ae::fd f, std::string h, std::uint16_t, ae::retry_fn retry) {
                             ++calls;
                             got = ec;
                             fd_given = static_cast<bool>(f);
                             host = std::move(h);
                             retry();  // nothing left to try: must do nothing
                           });
  CHECK(calls == 0);
  REQUIRE(run_until([&] { return calls > 0; }));
  run_for(50ms);
  CHECK(calls == 1);
  CHECK(got == std::errc::connection_refused);
  CHECK_FALSE(fd_given);
  CHECK(host.empty());
}
