// A name neither numeric, localhost nor in the hosts file does not resolve: ENXIO, as
// AnyEvent reports resolution failures. An unknown service name is a caller error: thrown.
#include "tcp_support.hpp"

#include <anyevent/error.hpp>

#include <fstream>

using namespace net_test;

TEST_CASE("tcp_connect/unresolvable") {
  temp_dir dir;
  {
    std::ofstream(dir / "hosts") << "127.0.0.1 known.test\n";
  }
  scoped_env env("ANYEVENT_HOSTS", dir / "hosts");
  int calls = 0;
  std::error_code got;
  auto g = ae::tcp_connect("unknown.test", "80", [&](std::error_code ec, ae::fd f) {
    ++calls;
    got = ec;
    CHECK_FALSE(f);
  });
  CHECK(calls == 0);
  REQUIRE(run_until([&] { return calls > 0; }));
  CHECK(calls == 1);
  CHECK(got.value() == ENXIO);
  CHECK(got.category() == std::generic_category());

  CHECK_THROWS_AS((void)ae::tcp_connect("127.0.0.1", "no-such-service-here", [](std::error_code, ae::fd) {}),
                  ae::error);
}
