// Every query type against a real dnsmasq.
#include "dns_server.hpp"

#include <anyevent/dns.hpp>
#include <doctest/doctest.h>

#include <sys/socket.h>

#include <algorithm>

using namespace std::chrono_literals;
using dns_test::capture;
using dns_test::outcome;

namespace {
ae::dns::options local(const dns_test::dnsmasq& d) {
  ae::dns::options o;
  o.servers = {d.server()};
  o.timeout = 2s;
  return o;
}
using strings = std::vector<std::string>;
}  // namespace

TEST_CASE("dns/query_types") {
  dns_test::dnsmasq server;
  auto l = ae::loop::create();
  ae::dns::resolver r(local(server), l);

  SUBCASE("a") {
    outcome<strings> a, m2;
    auto g1 = r.a("h.test", capture(a));
    auto g2 = r.a("m2.test", capture(m2));
    CHECK(a.calls == 0);  // never before the call returns
    REQUIRE(dns_test::run_until(l, [&] { return a.done() && m2.done(); }));
    CHECK(!a.ec);
    CHECK(a.value == strings{"127.0.0.3"});
    auto v = m2.value;
    std::sort(v.begin(), v.end());
    CHECK(v == strings{"127.0.0.5", "127.0.0.6"});
  }
  SUBCASE("aaaa") {
    outcome<strings> o;
    auto g = r.aaaa("h.test", capture(o));
    REQUIRE(dns_test::run_until(l, [&] { return o.done(); }));
    CHECK(!o.ec);
    CHECK(o.value == strings{"::3"});
  }
  SUBCASE("mx by preference") {
    outcome<std::vector<ae::dns::mx_record>> o;
    auto g = r.mx("m.test", capture(o));
    REQUIRE(dns_test::run_until(l, [&] { return o.done(); }));
    CHECK(!o.ec);
    REQUIRE(o.value.size() == 3);
    CHECK(o.value[0] == ae::dns::mx_record{5, "mx5.m.test"});
    CHECK(o.value[1] == ae::dns::mx_record{10, "mx10.m.test"});
    CHECK(o.value[2] == ae::dns::mx_record{20, "mx20.m.test"});
  }
  SUBCASE("txt joins a record's strings") {
    outcome<strings> o, one;
    auto g = r.txt("t.test", capture(o));
    auto g2 = r.txt("t2.test", capture(one));
    REQUIRE(dns_test::run_until(l, [&] { return o.done() && one.done(); }));
    CHECK(o.value == strings{"hello worldtwo"});
    CHECK(one.value == strings{"single"});
  }
  SUBCASE("srv") {
    outcome<std::vector<ae::dns::srv_record>> o;
    auto g = r.srv("sip", "udp", "s.test", capture(o));
    REQUIRE(dns_test::run_until(l, [&] { return o.done(); }));
    CHECK(!o.ec);
    REQUIRE(o.value.size() == 4);
    CHECK(o.value[0] == ae::dns::srv_record{5, 0, 5062, "p5.s.test"});
    CHECK(o.value[1].priority == 10);
    CHECK(o.value[2].priority == 10);
    CHECK(o.value[3] == ae::dns::srv_record{20, 0, 5063, "p20.s.test"});
  }
  SUBCASE("ptr and reverse_lookup") {
    outcome<strings> p, r4, r6;
    auto g1 = r.ptr("3.0.0.127.in-addr.arpa", capture(p));
    auto g2 = r.reverse_lookup("127.0.0.3", capture(r4));
    auto g3 = r.reverse_lookup("::3", capture(r6));
    REQUIRE(dns_test::run_until(l, [&] { return p.done() && r4.done() && r6.done(); }));
    CHECK(p.value == strings{"h.test"});
    CHECK(r4.value == strings{"h.test"});
    CHECK(r6.value == strings{"h6.test"});
  }
  SUBCASE("cname, and a/aaaa follow it") {
    outcome<strings> c, a;
    auto g1 = r.cname("c.test", capture(c));
    auto g2 = r.a("c.test", capture(a));
    REQUIRE(dns_test::run_until(l, [&] { return c.done() && a.done(); }));
    CHECK(c.value == strings{"h.test"});
    CHECK(a.value == strings{"127.0.0.3"});
  }
  SUBCASE("request gives the whole answer section") {
    outcome<std::vector<ae::dns::record>> o;
    auto g = r.request("c.test", ae::dns::rr_type::a, capture(o));
    REQUIRE(dns_test::run_until(l, [&] { return o.done(); }));
    CHECK(!o.ec);
    REQUIRE(o.value.size() == 2);
    CHECK(o.value[0].type == ae::dns::rr_type::cname);
    CHECK(o.value[0].name == "c.test");
    CHECK(std::get<std::string>(o.value[0].data) == "h.test");
    CHECK(o.value[1].type == ae::dns::rr_type::a);
    CHECK(std::get<std::string>(o.value[1].data) == "127.0.0.3");
  }
  SUBCASE("host: a and aaaa in parallel") {
    outcome<ae::dns::host_addresses> both, v4, only_a;
    auto g1 = r.host("h.test", AF_UNSPEC, capture(both));
    auto g2 = r.host("h.test", AF_INET, capture(v4));
    auto g3 = r.host("a.test", AF_UNSPEC, capture(only_a));  // no AAAA: still a success
    REQUIRE(dns_test::run_until(l, [&] { return both.done() && v4.done() && only_a.done(); }));
    CHECK(!both.ec);
    CHECK(both.value.ipv4 == strings{"127.0.0.3"});
    CHECK(both.value.ipv6 == strings{"::3"});
    CHECK(v4.value.ipv4 == strings{"127.0.0.3"});
    CHECK(v4.value.ipv6.empty());
    CHECK(!only_a.ec);
    CHECK(only_a.value.ipv4 == strings{"127.0.0.2"});
    CHECK(both.calls == 1);
  }
  CHECK(r.in_flight() == 0);
}

TEST_CASE("dns/type_names") {
  CHECK(ae::dns::type_name(ae::dns::rr_type::aaaa) == "AAAA");
  CHECK(ae::dns::type_name(static_cast<ae::dns::rr_type>(4242)) == "TYPE4242");
  CHECK(ae::dns::parse_type("mx") == ae::dns::rr_type::mx);
  CHECK(ae::dns::parse_type("TYPE65") == ae::dns::rr_type::https);
  CHECK(ae::dns::parse_type("99") == ae::dns::rr_type::spf);
  CHECK(!ae::dns::parse_type("TYPE70000"));
  CHECK(!ae::dns::parse_type("bogus"));
  CHECK(!ae::dns::parse_type(""));
}
