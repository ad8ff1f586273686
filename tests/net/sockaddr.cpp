// ae::sockaddr, pack_sockaddr and unpack_sockaddr for IPv4, IPv6 and unix paths, against
// the C structures and against addresses the kernel hands back.
#include <doctest/doctest.h>

#include <anyevent/address.hpp>
#include <anyevent/fd.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

namespace {

template <class T>
T as(const ae::sockaddr& sa) {
  REQUIRE(sa.size() <= sizeof(T));
  T out{};
  std::memcpy(&out, sa.data(), sa.size());
  return out;
}

constexpr std::size_t sun_header = offsetof(sockaddr_un, sun_path);

}  // namespace

TEST_CASE("sockaddr/pack_ipv4") {
  const auto sa = ae::pack_sockaddr("8080", *ae::parse_address("127.0.0.1"));
  CHECK(sa.family() == AF_INET);
  CHECK(sa.size() == sizeof(sockaddr_in));
  const auto in = as<sockaddr_in>(sa);
  CHECK(in.sin_family == AF_INET);
  CHECK(ntohs(in.sin_port) == 8080);
  CHECK(ntohl(in.sin_addr.s_addr) == 0x7f000001u);
  CHECK(ae::unpack_sockaddr(sa) == std::pair<std::string, ae::address>("8080", ae::address::ipv4({127, 0, 0, 1})));

  CHECK(ae::pack_sockaddr(std::uint16_t{8080}, ae::address::ipv4({127, 0, 0, 1})) == sa);
  CHECK(ae::pack_sockaddr("http=8080", ae::address::ipv4({127, 0, 0, 1})) == sa);
  CHECK(ae::unpack_sockaddr(ae::pack_sockaddr("0", ae::address::ipv4({}))).first == "0");
  CHECK(ae::unpack_sockaddr(ae::pack_sockaddr("65535", ae::address::ipv4({}))).first == "65535");
}

TEST_CASE("sockaddr/pack_ipv6") {
  const auto host = *ae::parse_ipv6("2001:db8::1");
  const auto sa = ae::pack_sockaddr(443, host);
  CHECK(sa.family() == AF_INET6);
  CHECK(sa.size() == sizeof(sockaddr_in6));
  const auto in6 = as<sockaddr_in6>(sa);
  CHECK(ntohs(in6.sin6_port) == 443);
  CHECK(in6.sin6_flowinfo == 0);
  CHECK(in6.sin6_scope_id == 0);
  CHECK(std::memcmp(&in6.sin6_addr, host.bytes().data(), 16) == 0);
  const auto [port, back] = ae::unpack_sockaddr(sa);
  CHECK(port == "443");
  CHECK(back == host);
  // a v4-mapped address stays IPv6 in a sockaddr_in6
  const auto mapped = ae::pack_sockaddr("1", *ae::parse_ipv6("::ffff:1.2.3.4"));
  CHECK(mapped.family() == AF_INET6);
  CHECK(ae::unpack_sockaddr(mapped).second.is_v4_mapped());
}

TEST_CASE("sockaddr/bad_ports") {
  const auto host = ae::address::ipv4({127, 0, 0, 1});
  for (const char* bad : {"", "http", "65536", "99999999999999999999", "-1", "+80", " 80", "80 ",
                          "0x50", "=80", "http=", "http=x", "8 0"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(ae::pack_sockaddr(bad, host), std::invalid_argument);
    CHECK_THROWS_AS(ae::pack_sockaddr(bad, *ae::parse_ipv6("::1")), std::invalid_argument);
  }
  CHECK_THROWS_AS(ae::pack_sockaddr(std::uint16_t{80}, ae::address::unix_socket()), std::invalid_argument);
}

TEST_CASE("sockaddr/pack_unix") {
  const auto u = ae::address::unix_socket();
  const auto sa = ae::pack_sockaddr("/tmp/x.sock", u);
  CHECK(sa.family() == AF_UNIX);
  CHECK(sa.size() == sun_header + std::strlen("/tmp/x.sock") + 1);
  const auto un = as<sockaddr_un>(sa);
  CHECK(std::string(un.sun_path) == "/tmp/x.sock");
  CHECK(ae::unpack_sockaddr(sa) == std::pair<std::string, ae::address>("/tmp/x.sock", u));

  // the longest path that fits with its NUL, and one byte more
  const std::size_t room = sizeof(sockaddr_un{}.sun_path);
  const std::string longest = "/" + std::string(room - 2, 'p');
  CHECK(ae::unpack_sockaddr(ae::pack_sockaddr(longest, u)).first == longest);
  CHECK_THROWS_AS(ae::pack_sockaddr(longest + "p", u), std::invalid_argument);
  CHECK_THROWS_AS(ae::pack_sockaddr(std::string(4096, 'p'), u), std::invalid_argument);
  CHECK_THROWS_AS(ae::pack_sockaddr(std::string("/tmp/a\0b", 8), u), std::invalid_argument);

  // unnamed (empty path) and Linux abstract names round-trip
  const auto unnamed = ae::pack_sockaddr("", u);
  CHECK(unnamed.size() == sun_header);
  CHECK(ae::unpack_sockaddr(unnamed).first.empty());
  const std::string abstract("\0name\0with nul", 14);
  const auto abs = ae::pack_sockaddr(abstract, u);
  CHECK(abs.size() == sun_header + abstract.size());
  CHECK(ae::unpack_sockaddr(abs).first == abstract);
  CHECK(ae::unpack_sockaddr(ae::pack_sockaddr(std::string(room, '\0'), u)).first.size() == room);
  CHECK_THROWS_AS(ae::pack_sockaddr(std::string(room + 1, '\0'), u), std::invalid_argument);
}

TEST_CASE("sockaddr/unpack_rejects") {
  CHECK_THROWS_AS(ae::unpack_sockaddr(ae::sockaddr{}), std::invalid_argument);
  const auto in = ae::pack_sockaddr("80", ae::address::ipv4({1, 2, 3, 4}));
  CHECK_THROWS_AS(ae::unpack_sockaddr(ae::sockaddr(in.data(), 4)), std::invalid_argument);
  CHECK_THROWS_AS(ae::unpack_sockaddr(ae::sockaddr(in.data(), 1)), std::invalid_argument);
  const auto in6 = ae::pack_sockaddr("80", *ae::parse_ipv6("::1"));
  CHECK_THROWS_AS(ae::unpack_sockaddr(ae::sockaddr(in6.data(), sizeof(sockaddr_in))),
                  std::invalid_argument);
  sockaddr_storage other{};
  other.ss_family = AF_APPLETALK;
  CHECK_THROWS_AS(ae::unpack_sockaddr(ae::sockaddr(reinterpret_cast<sockaddr*>(&other), sizeof other)),
                  std::invalid_argument);
}

TEST_CASE("sockaddr/value_type") {
  const ae::sockaddr empty;
  CHECK(empty.size() == 0);
  CHECK(empty.family() == AF_UNSPEC);
  CHECK(ae::sockaddr::capacity() == sizeof(sockaddr_storage));
  sockaddr_storage big{};
  CHECK_THROWS_AS(ae::sockaddr(reinterpret_cast<sockaddr*>(&big), sizeof big + 1), std::invalid_argument);
  CHECK_THROWS_AS(ae::sockaddr(nullptr, 4), std::invalid_argument);
  ae::sockaddr s;
  CHECK_THROWS_AS(s.resize(ae::sockaddr::capacity() + 1), std::invalid_argument);
  const auto a = ae::pack_sockaddr("80", ae::address::ipv4({1, 2, 3, 4}));
  const auto b = ae::pack_sockaddr("81", ae::address::ipv4({1, 2, 3, 4}));
  ae::sockaddr copy = a;
  CHECK(copy == a);
  CHECK(a != b);
  copy.resize(4);
  CHECK(copy != a);
}

TEST_CASE("sockaddr/kernel_ipv4") {
  ae::fd s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  REQUIRE(s);
  const auto want = ae::pack_sockaddr("0", *ae::parse_address("127.0.0.1"));
  REQUIRE(::bind(s.get(), want.data(), want.size()) == 0);
  ae::sockaddr got;
  socklen_t len = ae::sockaddr::capacity();
  REQUIRE(::getsockname(s.get(), got.data(), &len) == 0);
  got.resize(len);
  const auto [port, host] = ae::unpack_sockaddr(got);
  CHECK(host == ae::address::ipv4({127, 0, 0, 1}));
  CHECK(port != "0");
  CHECK(ae::pack_sockaddr(port, host) == got);
}

TEST_CASE("sockaddr/kernel_ipv6") {
  ae::fd s(::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!s) return;  // no IPv6 in this environment
  const auto want = ae::pack_sockaddr("0", *ae::parse_address("::1"));
  if (::bind(s.get(), want.data(), want.size()) != 0) return;  // ::1 not configured
  ae::sockaddr got;
  socklen_t len = ae::sockaddr::capacity();
  REQUIRE(::getsockname(s.get(), got.data(), &len) == 0);
  got.resize(len);
  const auto [port, host] = ae::unpack_sockaddr(got);
  CHECK(ae::format_address(host) == "::1");
  CHECK(port != "0");
}

TEST_CASE("sockaddr/kernel_unix") {
  char dir_template[] = "/tmp/ae-net-test-XXXXXX";
  REQUIRE(::mkdtemp(dir_template) != nullptr);
  const std::string dir = dir_template;
  const std::string path = dir + "/s";
  {
    ae::fd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    REQUIRE(s);
    const auto sa = ae::pack_sockaddr(path, ae::address::unix_socket());
    REQUIRE(::bind(s.get(), sa.data(), sa.size()) == 0);
    ae::sockaddr got;
    socklen_t len = ae::sockaddr::capacity();
    REQUIRE(::getsockname(s.get(), got.data(), &len) == 0);
    got.resize(len);
    CHECK(ae::unpack_sockaddr(got) == std::pair<std::string, ae::address>(path, ae::address::unix_socket()));
    ::unlink(path.c_str());
  }
  ::rmdir(dir.c_str());

  // both ends of a socketpair are unnamed
  int pair[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) == 0);
  ae::fd a(pair[0]), b(pair[1]);
  ae::sockaddr peer;
  socklen_t len = ae::sockaddr::capacity();
  REQUIRE(::getpeername(a.get(), peer.data(), &len) == 0);
  peer.resize(len);
  CHECK(ae::unpack_sockaddr(peer) == std::pair<std::string, ae::address>("", ae::address::unix_socket()));
}
