// Destroying a unix tcp_server's guard unlinks its path only while the path still holds the
// socket it bound: a path someone replaced meanwhile stays.
#include "tcp_support.hpp"

#include <sys/stat.h>

#include <fstream>

using namespace net_test;

TEST_CASE("tcp_server/unix_unlinked_when_ours") {
  temp_dir dir;
  const std::string path = dir / "s";
  {
    auto server = ae::tcp_server("unix/", path, [](ae::fd, std::string, std::uint16_t) {});
    struct stat st{};
    REQUIRE(::lstat(path.c_str(), &st) == 0);
  }
  struct stat st{};
  CHECK(::lstat(path.c_str(), &st) < 0);
}

TEST_CASE("tcp_server/unix_not_unlinked_when_replaced") {
  temp_dir dir;
  const std::string path = dir / "s";
  {
    auto server = ae::tcp_server("unix/", path, [](ae::fd, std::string, std::uint16_t) {});
    REQUIRE(::unlink(path.c_str()) == 0);
    std::ofstream(path) << "someone else's\n";  // a new inode at the same path
  }
  struct stat st{};
  REQUIRE(::lstat(path.c_str(), &st) == 0);
  CHECK(S_ISREG(st.st_mode));

  // The same with a socket of another server in its place.
  REQUIRE(::unlink(path.c_str()) == 0);
  {
    auto first = ae::tcp_server("unix/", path, [](ae::fd, std::string, std::uint16_t) {});
    REQUIRE(::unlink(path.c_str()) == 0);
    auto second = ae::tcp_server("unix/", path, [](ae::fd, std::string, std::uint16_t) {});
    first.reset();
    struct stat st2{};
    CHECK(::lstat(path.c_str(), &st2) == 0);  // second's socket survived first's guard
  }
}
