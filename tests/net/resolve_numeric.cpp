// resolve_sockaddr without any file: numeric addresses, localhost, unix/, services as
// numbers, names and name=port, ANYEVENT_PROTOCOLS order, and the caller errors it throws.
#include "resolve_support.hpp"

#include <anyevent/error.hpp>

#include <netinet/in.h>

using namespace net_test;
using V = std::vector<std::string>;

TEST_CASE("resolve_sockaddr/numeric") {
  auto r = resolve("10.1", "80");
  REQUIRE(r.size() == 1);
  CHECK(r[0].family == AF_INET);
  CHECK(r[0].type == SOCK_STREAM);
  CHECK(r[0].protocol == IPPROTO_TCP);
  CHECK(r[0].host == "10.0.0.1");
  CHECK(r[0].service == "80");

  r = resolve("::ffff:1.2.3.4", "1");  // v4-mapped comes back as IPv4
  REQUIRE(r.size() == 1);
  CHECK(r[0].family == AF_INET);

  r = resolve("2001:db8::1", "443");
  REQUIRE(r.size() == 1);
  CHECK(r[0].family == AF_INET6);
  CHECK(r[0].host == "2001:db8::1");

  CHECK(resolve("2001:db8::1", "1", "tcp", 4).empty());
  CHECK(resolve("10.0.0.1", "1", "tcp", 6).empty());
}

TEST_CASE("resolve_sockaddr/localhost") {
  CHECK(hosts_of(resolve("localhost", "1")) == V{"127.0.0.1", "::1"});
  CHECK(hosts_of(resolve("LocalHost", "1", "tcp", 6)) == V{"::1"});
  {
    scoped_env env("ANYEVENT_PROTOCOLS", "ipv6,ipv4");
    CHECK(hosts_of(resolve("localhost", "1")) == V{"::1", "127.0.0.1"});
  }
  {
    scoped_env env("ANYEVENT_PROTOCOLS", "ipv4");
    CHECK(hosts_of(resolve("localhost", "1")) == V{"127.0.0.1"});
  }
}

TEST_CASE("resolve_sockaddr/services") {
  CHECK(resolve("127.0.0.1", "http")[0].service == "80");  // /etc/services
  CHECK(resolve("127.0.0.1", "whatever=8080")[0].service == "8080");
  CHECK(resolve("127.0.0.1", "65535")[0].service == "65535");
  auto r = resolve("127.0.0.1", "53", "udp");
  REQUIRE(r.size() == 1);
  CHECK(r[0].type == SOCK_DGRAM);
  CHECK(r[0].protocol == IPPROTO_UDP);

  CHECK_THROWS_AS(ae::resolve_sockaddr("127.0.0.1", "65536", "tcp", 0, 0, [](std::vector<ae::target>) {}), ae::error);
  CHECK_THROWS_AS(ae::resolve_sockaddr("127.0.0.1", "no-such-service-xyz", "tcp", 0, 0, [](std::vector<ae::target>) {}),
                  ae::error);
  CHECK_THROWS_AS(ae::resolve_sockaddr("127.0.0.1", "80", "carrier-pigeon", 0, 0, [](std::vector<ae::target>) {}),
                  ae::error);
  CHECK_THROWS_AS(ae::resolve_sockaddr("127.0.0.1", std::string_view("8\0" "0", 3), "tcp", 0, 0,
                                       [](std::vector<ae::target>) {}),
                  ae::error);
}

TEST_CASE("resolve_sockaddr/unix") {
  auto r = resolve("unix/", "/tmp/some.sock");
  REQUIRE(r.size() == 1);
  CHECK(r[0].family == AF_UNIX);
  CHECK(r[0].protocol == 0);
  CHECK(r[0].service == "/tmp/some.sock");
  CHECK(resolve("unix/", "/tmp/x", "tcp", 4).empty());
  CHECK(resolve("unix/", "").empty());
  CHECK(resolve("unix/", std::string(200, 'x')).empty());  // longer than sun_path
}

TEST_CASE("resolve_sockaddr/unresolvable") {
  temp_dir dir;
  scoped_env env("ANYEVENT_HOSTS", dir / "missing-hosts-file");
  CHECK(resolve("no-such-host.invalid", "80").empty());
  CHECK(resolve("", "80").empty());
  CHECK(resolve(std::string_view("local\0host", 10), "80").empty());
}
