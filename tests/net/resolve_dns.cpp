// resolve_sockaddr, tcp_connect and listen resolving names through ae::dns, against a dnsmasq
// started here: A and AAAA ordered by ANYEVENT_PROTOCOLS, DNS before the hosts file (per
// family), SRV records when the service is a name (ordered by family, then SRV order; a lone
// "." target meaning no service), IDNA names, localhost answered locally, cancellation while
// the query is out.
#include "dns_server.hpp"
#include "resolve_support.hpp"
#include "test_dns.hpp"

#include <anyevent/dns.hpp>

#include <fstream>

using namespace net_test;
using V = std::vector<std::string>;

namespace {

std::vector<std::string> records(std::uint16_t near_port = 1001, std::uint16_t far_port = 1002) {
  const std::string near = std::to_string(near_port), far = std::to_string(far_port);
  return {
      "--local=/test/",  // other names under .test: NXDOMAIN
      "--host-record=dual.test,127.0.0.1,::1",
      "--host-record=v4.test,127.0.0.1",
      "--host-record=v6.test,::1",
      "--host-record=both.test,10.0.0.1",
      "--host-record=xn--bcher-kva.test,127.0.0.2",
      "--host-record=localhost,10.1.1.1",  // must never be asked
      "--host-record=near.test,127.0.0.1,::1",
      "--host-record=far.test,127.0.0.1",
      "--srv-host=_ae-svc._tcp.srv.test,far.test," + far + ",20,0",
      "--srv-host=_ae-svc._tcp.srv.test,near.test," + near + ",10,0",
      "--srv-host=_ae-svc._tcp.none.test",  // no target: "." (service not available)
      "--host-record=none.test,127.0.0.1",
  };
}

/// host:port of each target, in order.
V endpoints(const std::vector<resolved>& r) {
  V out;
  for (auto& x : r) out.push_back(ae::format_hostport(x.host, x.service));
  return out;
}

}  // namespace

TEST_CASE("resolve_sockaddr/dns_a_and_aaaa") {
  dns_test::dnsmasq server(records());
  scoped_resolver use(server.server());

  CHECK(hosts_of(resolve("dual.test", "80")) == V{"127.0.0.1", "::1"});
  CHECK(hosts_of(resolve("DUAL.Test.", "80")) == V{"127.0.0.1", "::1"});
  CHECK(hosts_of(resolve("dual.test", "80", "tcp", 4)) == V{"127.0.0.1"});
  CHECK(hosts_of(resolve("dual.test", "80", "tcp", 6)) == V{"::1"});
  CHECK(hosts_of(resolve("v6.test", "80")) == V{"::1"});
  CHECK(resolve("v6.test", "80", "tcp", 4).empty());
  CHECK(resolve("missing.test", "80").empty());
  {
    scoped_env pref("ANYEVENT_PROTOCOLS", "ipv6,ipv4");
    CHECK(hosts_of(resolve("dual.test", "80")) == V{"::1", "127.0.0.1"});
  }
  {
    scoped_env pref("ANYEVENT_PROTOCOLS", "ipv6");
    CHECK(hosts_of(resolve("dual.test", "80")) == V{"::1"});
    CHECK(resolve("v4.test", "80").empty());
  }
  auto r = resolve("v4.test", "53", "udp");
  REQUIRE(r.size() == 1);
  CHECK(r[0].type == SOCK_DGRAM);
  CHECK(r[0].protocol == IPPROTO_UDP);
  CHECK(r[0].service == "53");
}

TEST_CASE("resolve_sockaddr/localhost_is_answered_locally") {
  dns_test::dnsmasq server(records());  // which says localhost is 10.1.1.1
  scoped_resolver use(server.server());
  CHECK(hosts_of(resolve("localhost", "80")) == V{"127.0.0.1", "::1"});
  CHECK(hosts_of(resolve("LocalHost", "80")) == V{"127.0.0.1", "::1"});
}

TEST_CASE("resolve_sockaddr/dns_before_hosts_file") {
  temp_dir dir;
  {
    std::ofstream(dir / "hosts") << "10.9.9.9 both.test\n"
                                    "10.8.8.8 hosts-only.test\n"
                                    "2001:db8::5 v4.test\n";
  }
  scoped_env hosts("ANYEVENT_HOSTS", dir / "hosts");
  dns_test::dnsmasq server(records());
  scoped_resolver use(server.server());

  CHECK(hosts_of(resolve("both.test", "80")) == V{"10.0.0.1"});          // DNS wins
  CHECK(hosts_of(resolve("hosts-only.test", "80")) == V{"10.8.8.8"});    // NXDOMAIN: hosts
  CHECK(hosts_of(resolve("v4.test", "80")) == V{"127.0.0.1", "2001:db8::5"});  // per family
}

TEST_CASE("resolve_sockaddr/hosts_file_when_dns_does_not_answer") {
  temp_dir dir;
  {
    std::ofstream(dir / "hosts") << "10.7.7.7 offline.test\n";
  }
  scoped_env hosts("ANYEVENT_HOSTS", dir / "hosts");
  dns_test::fake_dns silent;  // reads nothing, answers nothing
  ae::dns::options o;
  o.servers = {silent.server()};
  o.timeout = std::chrono::milliseconds(100);
  o.attempts = 1;
  scoped_resolver use(o);
  CHECK(hosts_of(resolve("offline.test", "80")) == V{"10.7.7.7"});
  CHECK(resolve("nowhere.test", "80").empty());
}

TEST_CASE("resolve_sockaddr/srv_records") {
  dns_test::dnsmasq server(records(1001, 1002));
  scoped_resolver use(server.server());

  // By family first, then SRV priority: near (priority 10) before far (20).
  CHECK(endpoints(resolve("srv.test", "ae-svc=9")) ==
        V{"127.0.0.1:1001", "127.0.0.1:1002", "[::1]:1001"});
  {
    scoped_env pref("ANYEVENT_PROTOCOLS", "ipv6,ipv4");
    CHECK(endpoints(resolve("srv.test", "ae-svc=9")) ==
          V{"[::1]:1001", "127.0.0.1:1001", "127.0.0.1:1002"});
  }
  // A lone "." target: the service is not available there, whatever A records say.
  CHECK(resolve("none.test", "ae-svc=9").empty());
  // No SRV records: the name itself, with the port after '='.
  CHECK(endpoints(resolve("dual.test", "ae-svc=4242")) == V{"127.0.0.1:4242", "[::1]:4242"});
  // A numeric service never looks for SRV records (srv.test has no address of its own).
  CHECK(resolve("srv.test", "9").empty());
  CHECK(endpoints(resolve("none.test", "9")) == V{"127.0.0.1:9"});
}

TEST_CASE("resolve_sockaddr/idna_names") {
  dns_test::dnsmasq server(records());
  scoped_resolver use(server.server());
  CHECK(hosts_of(resolve("b\xc3\xbc" "cher.test", "80")) == V{"127.0.0.2"});  // "bücher.test"
  CHECK(hosts_of(resolve("xn--bcher-kva.test", "80")) == V{"127.0.0.2"});
  CHECK(resolve("b\xff" "cher.test", "80").empty());  // not UTF-8: does not resolve
}

TEST_CASE("resolve_sockaddr/names_dns_cannot_carry") {
  dns_test::dnsmasq server(records());
  scoped_resolver use(server.server());
  CHECK(resolve(std::string(254, 'a'), "80").empty());
  CHECK(resolve(std::string(64, 'a') + ".test", "80").empty());
  CHECK(resolve("a..test", "80").empty());
  CHECK(resolve("with space.test", "80").empty());
}

TEST_CASE("tcp_connect/through_dns") {
  std::uint16_t port = 0;
  int accepted = 0;
  auto listener = ae::tcp_server(
      "127.0.0.1", "0", [&](ae::fd, std::string, std::uint16_t) { ++accepted; },
      [&](int, std::string, std::uint16_t p) {
        port = p;
        return 0;
      });
  REQUIRE(port != 0);
  std::uint16_t refused = 0;
  ae::fd refusing = refusing_socket(refused);
  // SRV: near.test (priority 10) on a refusing port, far.test on the listener.
  dns_test::dnsmasq server(records(refused, port));
  scoped_resolver use(server.server());

  SUBCASE("a name") {
    int calls = 0;
    std::error_code got;
    std::string peer;
    auto g = ae::tcp_connect("v4.test", std::to_string(port),
                             [&](std::error_code ec, ae::fd f, std::string host, std::uint16_t) {
                               ++calls;
                               got = ec;
                               peer = host;
                               CHECK(bool(f) == !ec);
                             });
    CHECK(calls == 0);
    REQUIRE(run_until([&] { return calls > 0 && accepted > 0; }));
    CHECK(calls == 1);
    CHECK_FALSE(got);
    CHECK(peer == "127.0.0.1");
  }
  SUBCASE("SRV records, the first target refusing") {
    int calls = 0;
    std::error_code got;
    std::uint16_t peer_port = 0;
    auto g = ae::tcp_connect("srv.test", "ae-svc=1",
                             [&](std::error_code ec, ae::fd, std::string, std::uint16_t p) {
                               ++calls;
                               got = ec;
                               peer_port = p;
                             });
    REQUIRE(run_until([&] { return calls > 0 && accepted > 0; }));
    CHECK(calls == 1);
    CHECK_FALSE(got);
    CHECK(peer_port == port);
  }
  SUBCASE("NXDOMAIN") {
    int calls = 0;
    std::error_code got;
    auto g = ae::tcp_connect("missing.test", "80", [&](std::error_code ec, ae::fd) {
      ++calls;
      got = ec;
    });
    REQUIRE(run_until([&] { return calls > 0; }));
    CHECK(calls == 1);
    CHECK(got == std::error_code(ENXIO, std::generic_category()));
  }
}

TEST_CASE("tcp_connect/cancel_while_resolving") {
  const long fds_before = open_fds();
  {
    dns_test::fake_dns server;  // reads queries, never answers
    scoped_resolver use(server.server());
    int calls = 0;
    auto g = ae::tcp_connect("slow.test", "80", [&](std::error_code, ae::fd) { ++calls; });
    REQUIRE(run_until([&] { return server.receive().has_value(); }));  // the query is out
    g.reset();
    run_for(std::chrono::milliseconds(50));
    CHECK(calls == 0);
    // A released guard lets the lookup run on to its (failed) end.
    auto g2 = ae::tcp_connect("slow.test", "80", [&](std::error_code ec, ae::fd) {
      ++calls;
      CHECK(ec == std::error_code(ENXIO, std::generic_category()));
    });
    g2.release();
    REQUIRE(run_until([&] { return calls > 0; }));
    CHECK(calls == 1);
  }
  CHECK(open_fds() == fds_before);
}

TEST_CASE("listen/host_through_dns") {
  dns_test::dnsmasq server(records());
  scoped_resolver use(server.server());
  std::vector<std::string> hosts;
  std::string error;
  ae::listen_options o;
  o.host = "dual.test";
  o.service = "0";
  o.on_accept = [](ae::fd, std::string, std::uint16_t) {};
  o.on_listen = [&](int, std::string host, std::uint16_t) { hosts.push_back(host); };
  o.on_resolve_error = [&](std::string message) { error = std::move(message); };
  auto g = ae::listen(std::move(o));
  REQUIRE(run_until([&] { return hosts.size() == 2 || !error.empty(); }));
  CHECK(error.empty());
  CHECK(hosts == V{"127.0.0.1", "::1"});

  ae::listen_options bad;
  bad.host = "missing.test";
  bad.service = "0";
  bad.on_accept = [](ae::fd, std::string, std::uint16_t) {};
  bad.on_resolve_error = [&](std::string message) { error = std::move(message); };
  auto g2 = ae::listen(std::move(bad));
  REQUIRE(run_until([&] { return !error.empty(); }));
  CHECK(error.find("missing.test") != std::string::npos);
}
