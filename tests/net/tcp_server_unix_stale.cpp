// tcp_server on a unix path: a stale socket left by a dead server is unlinked before bind;
// a live server's socket and a regular file are left alone (bind fails).
#include "tcp_support.hpp"

#include <anyevent/error.hpp>

#include <sys/stat.h>
#include <sys/un.h>

#include <fstream>

using namespace net_test;

namespace {

/// Binds a unix socket at `path` and closes it without unlinking: what a crashed server
/// leaves behind.
void leave_stale_socket(const std::string& path) {
  ae::fd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  auto sa = ae::pack_sockaddr(path, ae::address::unix_socket());
  REQUIRE(::bind(s.get(), sa.data(), sa.size()) == 0);
}

}  // namespace

TEST_CASE("tcp_server/unix_stale_socket_unlinked") {
  temp_dir dir;
  const std::string path = dir / "s";
  leave_stale_socket(path);
  int accepted = 0;
  auto server = ae::tcp_server("unix/", path, [&](ae::fd, std::string, std::uint16_t) { ++accepted; });
  bool connected = false;
  auto g = ae::tcp_connect("unix/", path, [&](std::error_code ec, ae::fd) {
    CHECK_FALSE(ec);
    connected = true;
  });
  REQUIRE(run_until([&] { return connected && accepted == 1; }));
}

TEST_CASE("tcp_server/unix_live_socket_kept") {
  temp_dir dir;
  const std::string path = dir / "s";
  auto live = ae::tcp_server("unix/", path, [](ae::fd, std::string, std::uint16_t) {});
  CHECK_THROWS_AS((void)ae::tcp_server("unix/", path, [](ae::fd, std::string, std::uint16_t) {}), ae::error);
  // The first server still works.
  bool connected = false;
  auto g = ae::tcp_connect("unix/", path, [&](std::error_code ec, ae::fd) {
    CHECK_FALSE(ec);
    connected = true;
  });
  REQUIRE(run_until([&] { return connected; }));
}

TEST_CASE("tcp_server/unix_regular_file_kept") {
  temp_dir dir;
  const std::string path = dir / "not-a-socket";
  std::ofstream(path) << "precious\n";
  CHECK_THROWS_AS((void)ae::tcp_server("unix/", path, [](ae::fd, std::string, std::uint16_t) {}), ae::error);
  struct stat st{};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  CHECK(S_ISREG(st.st_mode));
}
