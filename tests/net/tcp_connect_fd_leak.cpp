// No path leaks a descriptor: the count in /proc/self/fd is the same after 1,000 refused
// connects and after 1,000 cancelled ones (half cancelled as soon as tcp_connect returns,
// half after a loop iteration, while connecting).
#include "tcp_support.hpp"

#include <vector>

using namespace net_test;

TEST_CASE("tcp_connect/no_fd_leak_refused") {
  std::uint16_t port = 0;
  ae::fd holder = refusing_socket(port);
  const long before = open_fds();
  int refused = 0, other = 0;
  for (int batch = 0; batch < 10; ++batch) {
    std::vector<ae::guard> guards;
    int done = 0;
    for (int i = 0; i < 100; ++i)
      guards.push_back(ae::tcp_connect("127.0.0.1", std::to_string(port), [&](std::error_code ec, ae::fd f) {
        ++done;
        (ec == std::errc::connection_refused && !f ? refused : other)++;
      }));
    REQUIRE(run_until([&] { return done == 100; }));
  }
  CHECK(refused == 1000);
  CHECK(other == 0);
  CHECK(open_fds() == before);
}

TEST_CASE("tcp_connect/no_fd_leak_cancelled") {
  hanging_port hp;  // connects never finish, so every one of them is really cancelled
  const long before = open_fds();
  int calls = 0;
  for (int batch = 0; batch < 10; ++batch) {
    std::vector<ae::guard> guards;
    for (int i = 0; i < 100; ++i)
      guards.push_back(ae::tcp_connect("127.0.0.1", std::to_string(hp.port), [&](std::error_code, ae::fd) { ++calls; }));
    for (int i = 0; i < 50; ++i) guards[i].reset();  // at once
    ae::default_loop().run_nowait();                   // the rest wait in SYN-SENT
    guards.clear();
  }
  run_for(50ms);
  CHECK(calls == 0);
  CHECK(open_fds() == before);
}
