// The default resolver of a loop other than the default one lives as long as that loop: the
// loop goes when its last handle goes (the resolver does not keep it), and takes the
// resolver with it — its socket closed, its outstanding query cancelled without a call.
#include "dns_server.hpp"

#include <anyevent/dns.hpp>
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <optional>

using namespace std::chrono_literals;

namespace {

int open_fds() {
  int n = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

struct resolv_conf_env {
  std::string path;
  explicit resolv_conf_env(const std::string& content) {
    char name[] = "/tmp/ae-dns-default-XXXXXX";
    const int fd = ::mkstemp(name);
    REQUIRE(fd >= 0);
    path = name;
    REQUIRE(::write(fd, content.data(), content.size()) == static_cast<ssize_t>(content.size()));
    ::close(fd);
    ::setenv("ANYEVENT_RESOLV_CONF", path.c_str(), 1);
  }
  ~resolv_conf_env() {
    ::unsetenv("ANYEVENT_RESOLV_CONF");
    ::unlink(path.c_str());
  }
};

}  // namespace

TEST_CASE("dns/default_resolver/goes_with_its_loop") {
  dns_test::fake_dns silent;  // reads queries, never answers
  resolv_conf_env conf("nameserver " + silent.server() + "\noptions timeout:30 attempts:1\n");
  const int fds_before = open_fds();

  std::optional<ae::loop> l = ae::loop::create();
  auto& r = ae::dns::default_resolver(*l);
  CHECK(&r == &ae::dns::default_resolver(*l));
  CHECK(r.config().servers == std::vector<std::string>{silent.server()});
  int calls = 0;
  auto g = ae::dns::a("never.test", [&](std::error_code, std::vector<std::string>) { ++calls; }, *l);
  // Run until the query is on the wire: the resolver has a socket open now.
  std::optional<dns_test::datagram> q;
  REQUIRE(dns_test::run_until(*l, [&] { return q || (q = silent.receive()); }));
  CHECK(dns_test::query_name(q->bytes) == "never.test");
  CHECK(r.in_flight() == 1);
  CHECK(open_fds() > fds_before);

  l.reset();  // the only handle: loop, resolver, socket and query go now
  CHECK(open_fds() == fds_before);
  CHECK(calls == 0);
  g.reset();  // the guard of a query of a resolver that is gone: harmless
  CHECK(calls == 0);
}
