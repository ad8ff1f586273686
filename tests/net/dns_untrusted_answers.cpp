// Answers are untrusted: odd bytes in names come back escaped, malformed messages are
// EBADMSG, and nothing loops or reads past the end. A fake server sends what dnsmasq won't.
#include "dns_server.hpp"

#include <anyevent/dns.hpp>
#include <anyevent/io.hpp>
#include <doctest/doctest.h>

#include <map>

using namespace std::chrono_literals;
using dns_test::capture;
using dns_test::outcome;
using strings = std::vector<std::string>;
using bytes = std::vector<std::uint8_t>;

namespace {

bytes cat(std::initializer_list<bytes> parts) {
  bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// A reply to `q` with raw bytes appended after the question and the given counts.
bytes raw_reply(const bytes& q, std::uint16_t ancount, const bytes& tail) {
  bytes r = dns_test::make_reply(q, 0, {});
  r[6] = static_cast<std::uint8_t>(ancount >> 8);
  r[7] = static_cast<std::uint8_t>(ancount);
  r.insert(r.end(), tail.begin(), tail.end());
  return r;
}

struct scripted {
  dns_test::fake_dns fake;
  std::map<std::string, std::function<bytes(const bytes&)>> replies;
  ae::io watcher;
  explicit scripted(ae::loop& l) {
    watcher = ae::io(fake.fd(), ae::poll::read, [this] {
      while (auto d = fake.receive()) {
        auto it = replies.find(dns_test::query_name(d->bytes));
        if (it != replies.end()) fake.send(*d, it->second(d->bytes));
      }
    }, l);
  }
};

ae::dns::options opts(const scripted& s) {
  ae::dns::options o;
  o.servers = {s.fake.server()};
  o.timeout = 2s;
  o.attempts = 1;
  return o;
}

}  // namespace

TEST_CASE("dns/untrusted/ns_soa_and_escaping") {
  auto l = ae::loop::create();
  scripted s(l);
  s.replies["z.test"] = [](const bytes& q) {
    return dns_test::make_reply(q, 0, {{2, dns_test::wire_name({"ns1", "z", "test"})},
                                       {2, dns_test::wire_name({"ns2", "z", "test"})}});
  };
  s.replies["soa.test"] = [](const bytes& q) {
    return dns_test::make_reply(
        q, 0, {{6, cat({dns_test::wire_name({"ns", "test"}), dns_test::wire_name({"host\\master", "test"}),
                        bytes{0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4}})}});
  };
  s.replies["odd.test"] = [](const bytes& q) {
    using namespace std::string_literals;
    return dns_test::make_reply(
        q, 0, {{12, dns_test::wire_name({"we.ird"s, "nul\0 sp"s, "\xff\"()", "test"})},
               {12, dns_test::wire_name({})}});  // the root
  };
  ae::dns::resolver r(opts(s), l);
  outcome<strings> ns, ptr;
  outcome<std::vector<ae::dns::record>> soa;
  auto g1 = r.ns("z.test", capture(ns));
  auto g2 = r.request("soa.test", ae::dns::rr_type::soa, capture(soa));
  auto g3 = r.ptr("odd.test", capture(ptr));
  REQUIRE(dns_test::run_until(l, [&] { return ns.done() && soa.done() && ptr.done(); }));
  CHECK(ns.value == strings{"ns1.z.test", "ns2.z.test"});
  REQUIRE(soa.value.size() == 1);
  const auto& rec = std::get<ae::dns::soa_record>(soa.value[0].data);
  CHECK(rec.mname == "ns.test");
  CHECK(rec.rname == "host\\\\master.test");
  CHECK(rec.serial == 7);
  CHECK(rec.minimum == 4);
  CHECK(soa.value[0].ttl == 60);
  REQUIRE(ptr.value.size() == 2);
  CHECK(ptr.value[0] == "we\\.ird.nul\\000\\032sp.\\255\\\"\\(\\).test");
  CHECK(ptr.value[1] == ".");
}

TEST_CASE("dns/untrusted/malformed") {
  auto l = ae::loop::create();
  scripted s(l);
  // Owner name is a compression pointer to itself: a loop.
  s.replies["loop.test"] = [](const bytes& q) {
    bytes r = dns_test::make_reply(q, 0, {});
    const std::size_t here = r.size();
    r[7] = 1;
    r.insert(r.end(), {static_cast<std::uint8_t>(0xC0 | (here >> 8)), static_cast<std::uint8_t>(here),
                       0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4});
    return r;
  };
  // A pointer forward, past the end.
  s.replies["forward.test"] = [](const bytes& q) {
    return raw_reply(q, 1, {0xC0, 0xFF, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4});
  };
  // An A record with 5 bytes of rdata.
  s.replies["fat.test"] = [](const bytes& q) {
    return dns_test::make_reply(q, 0, {{1, {1, 2, 3, 4, 5}}});
  };
  // rdlength larger than what follows.
  s.replies["short.test"] = [](const bytes& q) {
    return raw_reply(q, 1, {0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 1, 0, 40, 1, 2, 3, 4});
  };
  // ancount says 2, one record is there.
  s.replies["count.test"] = [](const bytes& q) {
    return raw_reply(q, 2, {0xC0, 0x0C, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4});
  };
  // An MX whose exchange name runs past the rdata.
  s.replies["mx.test"] = [](const bytes& q) {
    return dns_test::make_reply(q, 0, {{15, {0, 10, 3, 'a', 'b'}}});
  };
  // A TXT string longer than the rdata.
  s.replies["txt.test"] = [](const bytes& q) {
    return dns_test::make_reply(q, 0, {{16, {9, 'a', 'b'}}});
  };
  // A CNAME loop: a → b → a, no address.
  s.replies["cl.test"] = [](const bytes& q) {
    bytes r = dns_test::make_reply(q, 0, {{5, dns_test::wire_name({"cl2", "test"})}});
    r[7] = 2;
    const bytes back = cat({dns_test::wire_name({"cl2", "test"}), bytes{0, 5, 0, 1, 0, 0, 0, 1, 0, 9},
                            dns_test::wire_name({"cl", "test"})});
    r.insert(r.end(), back.begin(), back.end());
    return r;
  };
  ae::dns::resolver r(opts(s), l);
  std::map<std::string, outcome<strings>> a;
  outcome<std::vector<ae::dns::mx_record>> mx;
  outcome<strings> txt;
  std::vector<ae::guard> guards;
  for (const char* n : {"loop.test", "forward.test", "fat.test", "short.test", "count.test", "cl.test"})
    guards.push_back(r.a(n, capture(a[n])));
  guards.push_back(r.mx("mx.test", capture(mx)));
  guards.push_back(r.txt("txt.test", capture(txt)));
  REQUIRE(dns_test::run_until(l, [&] {
    for (auto& [n, o] : a)
      if (!o.done()) return false;
    return mx.done() && txt.done();
  }));
  for (const char* n : {"loop.test", "forward.test", "fat.test", "short.test", "count.test"}) {
    INFO(n);
    CHECK(a[n].ec == std::errc::bad_message);
    CHECK(a[n].calls == 1);
  }
  CHECK(a["cl.test"].ec == std::errc::no_message_available);
  CHECK(mx.ec == std::errc::bad_message);
  CHECK(txt.ec == std::errc::bad_message);
}
