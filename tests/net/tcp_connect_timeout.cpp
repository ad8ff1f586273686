// The timeout prepare returns ends an attempt with ETIMEDOUT.
//
// The connect that hangs comes from net_test::hanging_port (tcp_support.hpp): a listener
// whose full accept queue makes the kernel drop our SYN, so the connect stays in SYN-SENT
// far longer than our 200 ms.
#include "tcp_support.hpp"

using namespace net_test;

TEST_CASE("tcp_connect/prepare_timeout") {
  hanging_port hp;
  const std::uint16_t port = hp.port;

  int calls = 0, prepares = 0;
  std::error_code got;
  auto g = ae::tcp_connect(
      "127.0.0.1", std::to_string(port),
      [&](std::error_code ec, ae::fd f) {
        ++calls;
        got = ec;
        CHECK_FALSE(f);
      },
      [&](int fd) -> ae::duration {
        ++prepares;
        CHECK(fd >= 0);
        return 200ms;
      });
  REQUIRE(run_until([&] { return calls > 0; }));
  CHECK(calls == 1);
  CHECK(prepares == 1);
  CHECK(got == std::errc::timed_out);
}
