// parse_hostport / format_hostport: AnyEvent's t/06_socket.t vectors, every documented form,
// the default service, and what is refused.
#include <doctest/doctest.h>

#include <anyevent/address.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace {

using host_service = std::optional<std::pair<std::string, std::string>>;

host_service hp(std::string_view host, std::string_view service) {
  return std::pair<std::string, std::string>(host, service);
}

struct hostport_case {
  std::string_view text;
  std::string_view default_service;
  host_service expected;
};

void check_cases(std::initializer_list<hostport_case> cases) {
  for (const auto& c : cases) {
    CAPTURE(c.text);
    CAPTURE(c.default_service);
    CHECK(ae::parse_hostport(c.text, c.default_service) == c.expected);
  }
}

}  // namespace

TEST_CASE("parse_hostport/anyevent_t06") {
  // t/06_socket.t, with its '_' written as the space it stands for
  check_cases({
      {"", "", std::nullopt},
      {"localhost", "", std::nullopt},
      {"localhost", "443", hp("localhost", "443")},
      {"localhost:444", "443", hp("localhost", "444")},
      {"10.0.0.1", "443", hp("10.0.0.1", "443")},
      {"10.1:80", "443", hp("10.1", "80")},
      {"::1", "443", hp("::1", "443")},
      {"::1:80", "443", hp("::1:80", "443")},
      {"[::1]:80", "443", hp("::1", "80")},
      {"[::1] 80", "443", hp("::1", "80")},
      {"[::1] :", "443", std::nullopt},
      {"[::1]:", "443", std::nullopt},
      {"::1 smtp", "443", hp("::1", "smtp")},
      {"[www.linux.org] 80", "443", hp("www.linux.org", "80")},
      {"[10.1]:80", "443", hp("10.1", "80")},
      {"10.1 80", "443", hp("10.1", "80")},
      {"2002:58c6:438b::10.0.0.17", "443", hp("2002:58c6:438b::10.0.0.17", "443")},
  });
}

TEST_CASE("parse_hostport/documented_forms") {
  check_cases({
      // hostname:port
      {"www.linux.org", "", std::nullopt},
      {"www.linux.org", "http", hp("www.linux.org", "http")},
      {"www.x.de:443", "", hp("www.x.de", "443")},
      {"www.x.de:https=443", "", hp("www.x.de", "https=443")},
      {"localhost:443", "", hp("localhost", "443")},
      {"localhost", "https", hp("localhost", "https")},
      // ipv4:port
      {"198.182.196.56", "80", hp("198.182.196.56", "80")},
      {"198.182.196.56", "", std::nullopt},
      {"127.1:22", "", hp("127.1", "22")},
      // ipv6
      {"::1", "80", hp("::1", "80")},
      {"affe::1", "80", hp("affe::1", "80")},
      {"::1", "", std::nullopt},
      // [ipv4or6]:port and [ipv4or6] port
      {"[::1]", "", std::nullopt},
      {"[::1]", "80", hp("::1", "80")},
      {"[10.0.1]:80", "", hp("10.0.1", "80")},
      {"[127.0.0.1]", "25", hp("127.0.0.1", "25")},
      {"[www.x.org] 17", "", hp("www.x.org", "17")},
      {"[::ffff:1.2.3.4]:8080", "", hp("::ffff:1.2.3.4", "8080")},
      // ipv4or6 port
      {"::1 443", "", hp("::1", "443")},
      {"10.0.0.1 smtp", "", hp("10.0.0.1", "smtp")},
      {"10.0.0.1\tsmtp", "", hp("10.0.0.1", "smtp")},
      // unix/:path and /path
      {"unix/:/path/to/socket", "", hp("unix/", "/path/to/socket")},
      {"/path/to/socket", "", hp("unix/", "/path/to/socket")},
      {"/tmp/debug.sock", "80", hp("unix/", "/tmp/debug.sock")},
      {"/tmp/with space:and colon", "", hp("unix/", "/tmp/with space:and colon")},
      {"/", "", hp("unix/", "/")},
      // '#' as separator, trailing white space
      {"::1#53", "", hp("::1", "53")},
      {"[::1]#53", "", hp("::1", "53")},
      {"10.0.0.1#53", "", hp("10.0.0.1", "53")},
      {"localhost:443  ", "", hp("localhost", "443")},
      {"localhost \t", "80", hp("localhost", "80")},
      {"::1 443\n", "", hp("::1", "443")},
      // hosts DNS would refuse are still hosts here (resolution decides)
      {"b\xc3\xbc" "cher.de:80", "", hp("b\xc3\xbc" "cher.de", "80")},
      {"a/b:80", "", hp("a/b", "80")},
      {"[/odd]:80", "", hp("/odd", "80")},
  });
}

TEST_CASE("parse_hostport/rejected") {
  using namespace std::string_view_literals;
  const std::string_view cases[] = {
      // host names with colons
      "foo:bar:80", "[foo:bar]:80", "dead:beef:cafe:80", "a:b:c", "::1:", "1:2:3", "fe80::1%eth0",
      "[fe80::1%eth0]:80", "fe80::1%eth0 80",
      // brackets
      "[", "]", "]:", "[]", "[]:80", "[::1", "::1]", "[::1]x", "[::1]]:80", "[[::1]]:80",
      "a[b]:80", "a]:80", "[a]b", "[a b]:80", "[ ::1 ]:80",
      // separators and services
      ":80", ":", "host:", "host::80", "host:80:90", "host: 80", "host :80", "host 80 90",
      "host\x01:80", "host:8\x01", "host:80\x7f", "[::1]:80 x",
      // white space at the front, NULs anywhere
      " localhost:80", "\tlocalhost:80", " ::1 80", " /tmp/sock",
      "host\0:80"sv, "host:80\0"sv, "\0"sv, "/tmp/\0sock"sv, "[::1]\0:80"sv,
      // fuzz seeds
      "0::00:00:00/2", ":::", "::::80",
  };
  for (const auto& c : cases) {
    CAPTURE(c);
    CHECK_FALSE(ae::parse_hostport(c).has_value());
    CHECK_FALSE(ae::parse_hostport(c, "80").has_value());
  }
}

TEST_CASE("parse_hostport/huge_host") {
  const std::string big(1 << 20, 'a');
  const auto r = ae::parse_hostport("[" + big + "]:80");
  REQUIRE(r);
  CHECK(r->first == big);
  CHECK(r->second == "80");
  CHECK_FALSE(ae::parse_hostport("[" + big).has_value());
  CHECK_FALSE(ae::parse_hostport(std::string(1 << 20, ':')).has_value());
}

TEST_CASE("parse_hostport/format_hostport") {
  CHECK(ae::format_hostport("localhost", "443") == "localhost:443");
  CHECK(ae::format_hostport("localhost") == "localhost");
  CHECK(ae::format_hostport("::1", "80") == "[::1]:80");
  CHECK(ae::format_hostport("::1") == "[::1]");
  CHECK(ae::format_hostport("10.0.0.1", "smtp") == "10.0.0.1:smtp");
  CHECK(ae::format_hostport("unix/", "/tmp/s") == "/tmp/s");
  CHECK(ae::format_hostport("unix/", "/tmp/with space") == "/tmp/with space");
  CHECK(ae::format_hostport("unix/", "name") == "unix/:name");
  CHECK(ae::format_hostport("/odd", "80") == "[/odd]:80");

  // what format_hostport writes, parse_hostport reads back
  const std::pair<std::string_view, std::string_view> pairs[] = {
      {"localhost", "443"}, {"::1", "80"}, {"::1:80", "443"}, {"10.1", "http=80"},
      {"unix/", "/tmp/s"}, {"unix/", "/tmp/a b:c"}, {"unix/", "rel"}, {"/odd", "1"},
      {"2002:58c6:438b::10.0.0.17", "443"}, {"a/b", "[x"},
  };
  for (const auto& [host, service] : pairs) {
    CAPTURE(host);
    CHECK(ae::parse_hostport(ae::format_hostport(host, service)) == hp(host, service));
  }
}
