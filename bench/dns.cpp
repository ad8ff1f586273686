// The dns workload (issue 5): A queries per second against one local dnsmasq, with `depth`
// queries in flight, each answer asking the next question from its callback. Baseline:
// c-ares driven by a minimal epoll loop; measured: ae::dns on the column's loop.
//
// 1. Both sides run the same body (dns_ctx): count the answer, ask the next question from
//    inside the callback. That is the pattern that keeps c-ares' socket open at one query in
//    flight with default options (dns_resolver.cpp note 8), and AnyEvent's usual style.
// 2. Both channels are configured alike: no search list, DNS only (no hosts file), one
//    server; STAYOPEN only in the stay-open rows. ae::dns gets max_outstanding = depth so
//    its queue never holds a query back.
// 3. The baseline parses each answer with ares_parse_a_reply(); ae::dns parses into
//    strings. That difference is part of what is measured: it is what a user pays.
// 4. dnsmasq is tests/net/dns_server.cpp's, compiled in; it runs on its own (unpinned) and
//    is started once per column process.
#include "bench.hpp"

#include "dns_server.hpp"

#include <anyevent/dns.hpp>
#include <anyevent/loop.hpp>

#include <ares.h>
#include <sched.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <stdexcept>

namespace ae::bench {
namespace {

const char* const query_name = "b.test";

struct dns_ctx {
  long issued = 0, done = 0, failed = 0, total = 0;
  void (*issue)(dns_ctx*) = nullptr;
  void* side = nullptr;

  void start(long n, long depth) {
    total = n;
    for (long i = 0; i < depth && issued < total; ++i) next();
  }
  void next() {
    ++issued;
    issue(this);
  }
  /// One answer: count it, then ask the next question (note 1).
  void on_answer(bool ok) {
    ++done;
    if (!ok) ++failed;
    if (issued < total) next();
  }
};

// ---- the baseline: c-ares on raw epoll ----

struct raw_dns {
  ares_channel ch = nullptr;
  int ep = -1;
  dns_ctx ctx;
};

void raw_sock_state(void* data, ares_socket_t fd, int readable, int writable) {
  auto* r = static_cast<raw_dns*>(data);
  epoll_event ev{};
  ev.data.fd = fd;
  ev.events = (readable ? EPOLLIN : 0u) | (writable ? EPOLLOUT : 0u);
  if (!readable && !writable) ::epoll_ctl(r->ep, EPOLL_CTL_DEL, fd, nullptr);
  else if (::epoll_ctl(r->ep, EPOLL_CTL_MOD, fd, &ev) != 0) ::epoll_ctl(r->ep, EPOLL_CTL_ADD, fd, &ev);
}

void raw_answer(void* arg, int status, int, unsigned char* abuf, int alen) {
  auto* c = static_cast<dns_ctx*>(arg);
  ares_addrttl addrs[8];
  int n = 8;
  c->on_answer(status == ARES_SUCCESS && ares_parse_a_reply(abuf, alen, nullptr, addrs, &n) == ARES_SUCCESS &&
               n > 0);
}

void raw_issue(dns_ctx* c) {
  ares_search(static_cast<raw_dns*>(c->side)->ch, query_name, 1, 1, raw_answer, c);
}

}  // namespace

bool dns_built() { return true; }

struct dns_responder::impl {
  dns_test::dnsmasq server{{"--local=/test/", "--address=/b.test/127.0.0.1"}};
};

dns_responder::dns_responder() {
  // dnsmasq gets every CPU (note 4): sharing the benchmark's pinned CPU would add a context
  // switch to every query of both sides.
  cpu_set_t pinned, all;
  const bool restore = ::sched_getaffinity(0, sizeof pinned, &pinned) == 0;
  CPU_ZERO(&all);
  for (long c = 0, n = ::sysconf(_SC_NPROCESSORS_ONLN); c < n && c < CPU_SETSIZE; ++c) CPU_SET(c, &all);
  ::sched_setaffinity(0, sizeof all, &all);
  try {
    impl_ = std::make_unique<impl>();
  } catch (...) {
    if (restore) ::sched_setaffinity(0, sizeof pinned, &pinned);
    throw;
  }
  if (restore) ::sched_setaffinity(0, sizeof pinned, &pinned);
}

dns_responder::~dns_responder() = default;

std::string dns_responder::server() const { return impl_->server.server(); }

dns_result run_dns_raw(const dns_config& c, const dns_responder& server) {
  raw_dns r;
  r.ctx.issue = raw_issue;
  r.ctx.side = &r;
  r.ep = ::epoll_create1(EPOLL_CLOEXEC);
  ares_options o{};
  o.sock_state_cb = raw_sock_state;
  o.sock_state_cb_data = &r;
  o.flags = c.stay_open ? ARES_FLAG_STAYOPEN : 0;
  char lookups[] = "b";
  o.lookups = lookups;
  o.ndomains = 0;
  if (r.ep < 0 ||
      ares_init_options(&r.ch, &o, ARES_OPT_SOCK_STATE_CB | ARES_OPT_FLAGS | ARES_OPT_LOOKUPS | ARES_OPT_DOMAINS) !=
          ARES_SUCCESS)
    die("dns workload: cannot set up c-ares");
  if (ares_set_servers_ports_csv(r.ch, server.server().c_str()) != ARES_SUCCESS)
    die("dns workload: c-ares refuses the server address");
  const std::int64_t t0 = wall_ns();
  r.ctx.start(c.queries, c.depth);
  epoll_event evs[64];
  while (r.ctx.done < r.ctx.total) {
    timeval tv;
    const timeval* t = ares_timeout(r.ch, nullptr, &tv);
    const int ms = t ? static_cast<int>(tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000) : -1;
    const int n = ::epoll_wait(r.ep, evs, 64, ms);
    if (n == 0) ares_process_fd(r.ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    for (int i = 0; i < n; ++i)
      ares_process_fd(r.ch, (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) ? evs[i].data.fd : ARES_SOCKET_BAD,
                      (evs[i].events & EPOLLOUT) ? evs[i].data.fd : ARES_SOCKET_BAD);
  }
  const std::int64_t t1 = wall_ns();
  ares_destroy(r.ch);
  ::close(r.ep);
  if (r.ctx.failed) die("dns workload: " + std::to_string(r.ctx.failed) + " c-ares queries failed");
  return {static_cast<double>(r.ctx.total) * 1e9 / static_cast<double>(t1 - t0)};
}

namespace {

struct ae_dns {
  ae::dns::resolver* r;
  ae::loop* l;
};

void ae_issue(dns_ctx* c) {
  auto* s = static_cast<ae_dns*>(c->side);
  s->r->a(query_name, [c, s](std::error_code ec, std::vector<std::string> v) {
    c->on_answer(!ec && !v.empty());
    if (c->done == c->total) s->l->stop();
  }).release();
}

}  // namespace

dns_result run_dns_ae(const dns_config& c, const dns_responder& server, const std::string& backend) {
  auto l = ae::loop::create(backend);
  ae::dns::options o;
  o.servers = {server.server()};
  o.max_outstanding = static_cast<std::size_t>(c.depth);
  o.stay_open = c.stay_open;
  ae::dns::resolver r(o, l);
  ae_dns s{&r, &l};
  dns_ctx ctx;
  ctx.issue = ae_issue;
  ctx.side = &s;
  const std::int64_t t0 = wall_ns();
  ctx.start(c.queries, c.depth);
  l.run();
  const std::int64_t t1 = wall_ns();
  if (ctx.failed || ctx.done != ctx.total)
    die("dns workload: " + std::to_string(ctx.failed) + " ae::dns queries failed, " +
        std::to_string(ctx.total - ctx.done) + " unanswered");
  return {static_cast<double>(ctx.total) * 1e9 / static_cast<double>(t1 - t0)};
}

void dns_library_init() {
  if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) die("dns workload: ares_library_init failed");
}

}  // namespace ae::bench
