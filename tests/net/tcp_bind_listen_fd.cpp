// tcp_bind hands over the listening socket at once; accepting is the caller's business.
#include "tcp_support.hpp"

#include <anyevent/io.hpp>

#include <sys/stat.h>

using namespace net_test;

TEST_CASE("tcp_bind/hands_over_listening_socket") {
  ae::fd listener;
  std::uint16_t port = 0;
  auto g = ae::tcp_bind("127.0.0.1", "0", [&](ae::fd f) { listener = std::move(f); },
                        [&](int, std::string, std::uint16_t p) {
                          port = p;
                          return 0;
                        });
  REQUIRE(listener);
  CHECK(local_port(listener.get()) == port);

  ae::fd accepted;
  ae::io w(listener.get(), ae::poll::read, [&] { accepted.reset(::accept(listener.get(), nullptr, nullptr)); });
  bool connected = false;
  auto c = ae::tcp_connect("127.0.0.1", std::to_string(port), [&](std::error_code ec, ae::fd) {
    CHECK_FALSE(ec);
    connected = true;
  });
  REQUIRE(run_until([&] { return connected && accepted; }));
}

TEST_CASE("tcp_bind/unix_path_unlinked_by_guard") {
  temp_dir dir;
  const std::string path = dir / "b";
  ae::fd listener;
  {
    auto g = ae::tcp_bind("unix/", path, [&](ae::fd f) { listener = std::move(f); });
    struct stat st{};
    CHECK(::lstat(path.c_str(), &st) == 0);
  }
  struct stat st{};
  CHECK(::lstat(path.c_str(), &st) < 0);
  CHECK(listener);  // the socket itself is the caller's
}
