// resolv.conf parsing: the usual keywords, and hostile files (NUL bytes, 1 MiB lines,
// 10,000 entries) cost bounded work and never turn into a different entry.
#include "dns_server.hpp"
#include "test_dns.hpp"

#include <anyevent/dns.hpp>
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

using namespace std::chrono_literals;
using strings = std::vector<std::string>;

namespace {
struct temp_file {
  std::string path;
  explicit temp_file(const std::string& content) {
    char name[] = "/tmp/ae-dns-resolv-XXXXXX";
    const int fd = ::mkstemp(name);
    REQUIRE(fd >= 0);
    path = name;
    REQUIRE(::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
    ::close(fd);
  }
  ~temp_file() { ::unlink(path.c_str()); }
};
}  // namespace

TEST_CASE("dns/resolv_conf/keywords") {
  const auto o = ae::dns::parse_resolv_conf(
      "# comment\n"
      "; another\n"
      "nameserver 192.0.2.1\n"
      "nameserver 2001:db8::53   # trailing comment\n"
      "nameserver 192.0.2.2:5353\n"
      "nameserver 192.0.2.9\n"  // a fourth: ignored, as glibc does
      "domain example.org\n"
      "search a.example b.example\t c.example\r\n"
      "options ndots:3 timeout:2 attempts:4 rotate edns0 bogus:1\n"
      "sortlist 10.0.0.0/8\n");
  CHECK(o.servers == strings{"192.0.2.1", "2001:db8::53", "192.0.2.2:5353"});
  CHECK(o.search == strings{"a.example", "b.example", "c.example"});
  CHECK(o.ndots == 3);
  CHECK(o.timeout == 2s);
  CHECK(o.attempts == 4);
  CHECK(o.rotate);
  CHECK(o.edns0);
}

TEST_CASE("dns/resolv_conf/defaults_and_limits") {
  const auto d = ae::dns::parse_resolv_conf("");
  CHECK(d.servers.empty());
  CHECK(d.ndots == 1);
  CHECK(d.timeout == 5s);
  CHECK(d.attempts == 2);
  const auto o = ae::dns::parse_resolv_conf(
      "search x.example\ndomain only.example extra.example\n"
      "options ndots:99 timeout:99999999999999999999 attempts:0 ndots:x\n"
      "nameserver fe80::1%eth0\nnameserver 300.1.1.1\nnameserver 1.2.3.4:99999\n"
      "nameserver\n");
  CHECK(o.search == strings{"only.example"});  // the last of domain/search wins
  CHECK(o.ndots == 15);
  CHECK(o.timeout == 30s);
  CHECK(o.attempts == 1);
  CHECK(o.servers.empty());
}

TEST_CASE("dns/resolv_conf/nul_bytes") {
  using namespace std::string_literals;
  const auto o = ae::dns::parse_resolv_conf(
      "nameserver 192.0.2.1\0junk\n"s
      "nameserver 192.0.2.4\0\n"s
      "search a\0.example\n"s
      "nameserver 192.0.2.2\n"s
      "\0\0\0\n"s
      "options ndots:2\0\n"s);
  CHECK(o.servers == strings{"192.0.2.2"});  // lines holding a NUL are ignored whole
  CHECK(o.search.empty());
  CHECK(o.ndots == 1);
}

TEST_CASE("dns/resolv_conf/megabyte_lines") {
  const std::string huge(1 << 20, 'a');
  const auto o = ae::dns::parse_resolv_conf("nameserver " + huge + "\n" +
                                            "search " + huge + " ok.example " + huge + "\n" +
                                            "# " + huge + "\n" +
                                            "options " + huge + " ndots:4\n" +
                                            "nameserver 192.0.2.7\n" + huge);
  CHECK(o.servers == strings{"192.0.2.7"});
  CHECK(o.search == strings{"ok.example"});
  CHECK(o.ndots == 4);
  // A 1 MiB line with no newline at all, and one of spaces.
  CHECK(ae::dns::parse_resolv_conf(huge).servers.empty());
  CHECK(ae::dns::parse_resolv_conf("search" + std::string(1 << 20, ' ')).search.empty());
}

TEST_CASE("dns/resolv_conf/ten_thousand_entries") {
  std::string text, search = "search";
  for (int i = 0; i < 10000; ++i) {
    text += "nameserver 10.0." + std::to_string(i / 256 % 256) + "." + std::to_string(i % 256) + "\n";
    search += " d" + std::to_string(i) + ".example";
  }
  text += search + "\n";
  for (int i = 0; i < 10000; ++i) text += "options ndots:" + std::to_string(i % 7) + "\n";
  const auto o = ae::dns::parse_resolv_conf(text);
  CHECK(o.servers == strings{"10.0.0.0", "10.0.0.1", "10.0.0.2"});
  REQUIRE(o.search.size() == 32);
  CHECK(o.search.front() == "d0.example");
  CHECK(o.search.back() == "d31.example");
  CHECK(o.ndots == 9999 % 7);
}

TEST_CASE("dns/resolv_conf/file_and_environment") {
  dns_test::dnsmasq server;
  temp_file conf("nameserver " + server.server() + "\nsearch test\noptions timeout:2\n");
  const auto o = ae::dns::load_resolv_conf(conf.path);
  CHECK(o.servers == strings{server.server()});
  CHECK(ae::dns::load_resolv_conf("/nonexistent/resolv.conf").servers.empty());

  ::setenv("ANYEVENT_RESOLV_CONF", conf.path.c_str(), 1);
  const auto env = ae::dns::system_options();
  auto l = ae::loop::create();
  ae::dns::resolver r(l);  // system_options()
  ::unsetenv("ANYEVENT_RESOLV_CONF");
  CHECK(env.servers == strings{server.server()});
  CHECK(r.config().search == strings{"test"});
  dns_test::outcome<strings> res;
  auto g = r.a("h", dns_test::capture(res));  // through the search list
  REQUIRE(dns_test::run_until(l, [&] { return res.done(); }));
  CHECK(res.value == strings{"127.0.0.3"});
}

TEST_CASE("dns/default_resolver") {
  // One per loop, the same object every time; the test main has pointed it at a server of
  // its own (test_dns.hpp), so here it is pointed at one with records for a while.
  dns_test::dnsmasq server;
  auto& r = ae::dns::default_resolver();
  CHECK(&r == &ae::dns::default_resolver(ae::default_loop()));
  net_test::scoped_resolver use(server.server());
  CHECK(&r == &ae::dns::default_resolver());
  CHECK(r.config().servers == strings{server.server()});
  dns_test::outcome<strings> res;
  auto g = ae::dns::a("h.test", dns_test::capture(res));
  CHECK_FALSE(res.done());
  REQUIRE(dns_test::run_until(ae::default_loop(), [&] { return res.done(); }));
  CHECK(res.value == strings{"127.0.0.3"});
}

TEST_CASE("dns/resolver_rejects_bad_servers") {
  auto l = ae::loop::create();
  ae::dns::options o;
  o.servers = {"not-an-ip"};
  CHECK_THROWS_AS(ae::dns::resolver(o, l), std::system_error);
  o.servers = {"[::1]:0"};
  CHECK_THROWS_AS(ae::dns::resolver(o, l), std::system_error);
  o.servers = {"[::1]:53", "127.0.0.1:53", "::1"};
  CHECK_NOTHROW(ae::dns::resolver(o, l));
}
