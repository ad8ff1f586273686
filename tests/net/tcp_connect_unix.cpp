// tcp_connect + tcp_server over a unix socket in a temporary directory. A unix connect
// usually completes inside connect(); the callback must still wait until tcp_connect
// returned. The server's guard unlinks its socket.
#include "tcp_support.hpp"

#include <sys/stat.h>

using namespace net_test;

TEST_CASE("tcp_connect/unix") {
  temp_dir dir;
  const std::string path = dir / "sock";
  ae::fd accepted;
  std::string accepted_host = "?";
  {
    auto server = ae::tcp_server("unix/", path, [&](ae::fd f, std::string host, std::uint16_t port) {
      accepted = std::move(f);
      accepted_host = std::move(host);
      CHECK(port == 0);
    });
    struct stat st{};
    REQUIRE(::lstat(path.c_str(), &st) == 0);
    CHECK(S_ISSOCK(st.st_mode));

    bool returned = false, called = false;
    ae::fd client;
    std::string peer_host;
    auto g = ae::tcp_connect("unix/", path, [&](std::error_code ec, ae::fd f, std::string host, std::uint16_t port) {
      CHECK(returned);
      CHECK_FALSE(ec);
      CHECK(port == 0);
      called = true;
      client = std::move(f);
      peer_host = std::move(host);
    });
    returned = true;
    CHECK_FALSE(called);
    REQUIRE(run_until([&] { return called && accepted; }));
    CHECK(client);
    CHECK(peer_host == "unix/");
    CHECK(accepted_host == "unix/");
    REQUIRE(::send(client.get(), "x", 1, MSG_NOSIGNAL) == 1);
    char c = 0;
    REQUIRE(run_until([&] { return ::recv(accepted.get(), &c, 1, MSG_PEEK) == 1; }));
    CHECK(c == 'x');
  }
  struct stat st{};
  CHECK(::lstat(path.c_str(), &st) < 0);  // the guard unlinked it
}

TEST_CASE("tcp_connect/unix_missing_path") {
  temp_dir dir;
  std::error_code got;
  bool called = false;
  auto g = ae::tcp_connect("unix/", dir / "nothing-here", [&](std::error_code ec, ae::fd f) {
    called = true;
    got = ec;
    CHECK_FALSE(f);
  });
  REQUIRE(run_until([&] { return called; }));
  CHECK(got == std::errc::no_such_file_or_directory);
}
