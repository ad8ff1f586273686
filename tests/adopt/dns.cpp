// ae::dns inside a host's own loop: the host creates its native loop, adopts it, and runs it
// with the library's own run function; queries against a dnsmasq answer inside that run, and
// the run returns by itself once they are done (the resolver keeps nothing active while
// idle). Built once per foreign backend, with AE_ADOPT_<NAME> defined.
#include "../net/dns_server.hpp"

#include <doctest/doctest.h>

#include <anyevent/dns.hpp>

#if defined(AE_ADOPT_LIBEV)
#include <anyevent/backends/libev.hpp>
#elif defined(AE_ADOPT_LIBEVENT)
#include <anyevent/backends/libevent.hpp>
#elif defined(AE_ADOPT_LIBUV)
#include <anyevent/backends/libuv.hpp>
#endif

using strings = std::vector<std::string>;

namespace {

/// The host's own loop, made, run to completion and freed with the library's functions.
struct host_loop {
#if defined(AE_ADOPT_LIBEV)
  struct ev_loop* native = ev_loop_new(EVFLAG_AUTO);
  void run() { ev_run(native, 0); }
  ~host_loop() { ev_loop_destroy(native); }
#elif defined(AE_ADOPT_LIBEVENT)
  event_base* native = event_base_new();
  void run() { event_base_dispatch(native); }
  ~host_loop() { event_base_free(native); }
#elif defined(AE_ADOPT_LIBUV)
  uv_loop_t storage{};
  uv_loop_t* native = (uv_loop_init(&storage), &storage);
  void run() { uv_run(native, UV_RUN_DEFAULT); }
  ~host_loop() { CHECK(uv_loop_close(native) == 0); }
#endif
};

}  // namespace

TEST_CASE("adopt/dns_queries_in_the_host_loop") {
  dns_test::dnsmasq server;
  host_loop host;
  REQUIRE(host.native);
  {
    ae::loop l = ae::adopt(host.native);
    ae::dns::options o;
    o.servers = {server.server()};
    o.timeout = std::chrono::milliseconds(1000);
    ae::dns::resolver r(o, l);

    dns_test::outcome<strings> a, missing;
    dns_test::outcome<std::vector<ae::dns::mx_record>> mx;
    auto g1 = r.a("h.test", dns_test::capture(a));
    auto g2 = r.mx("m.test", dns_test::capture(mx));
    auto g3 = r.a("nothing-here.test", dns_test::capture(missing));
    host.run();  // returns once every query is done

    CHECK(a.calls == 1);
    CHECK(a.value == strings{"127.0.0.3"});
    CHECK(mx.calls == 1);
    REQUIRE(mx.value.size() == 3);
    CHECK(mx.value[0].exchange == "mx5.m.test");
    CHECK(missing.calls == 1);
    CHECK(missing.ec == std::error_code(ENXIO, std::generic_category()));

    // And a second round on the same resolver, after the host's run had ended.
    dns_test::outcome<strings> again;
    auto g4 = r.a("h.test", dns_test::capture(again));
    host.run();
    CHECK(again.value == strings{"127.0.0.3"});
  }
  // Resolver and adoption are gone: at most close callbacks are left (libuv closes handles
  // asynchronously), and the host's run ends by itself before the host frees its loop.
  host.run();
}
