// dns-bench: A queries per second against one local dnsmasq, through ae::dns on the built-in
// loop and through c-ares driven by a raw epoll loop (the baseline), 64 and 1 in flight.
// Runs the two interleaved (A B A B …, a warm-up pair then ≥ 7 measured pairs), pinned to
// one CPU, and prints each side's median queries/s and the median of the pair ratios with
// min and max (DESIGN §7). Not a test: it asserts nothing and has no time limit.
//
//   dns-bench [pairs] [queries-at-64] [queries-at-1]
#include "dns_server.hpp"

#include <anyevent/dns.hpp>

#include <ares.h>
#include <sched.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;
const char* const query_name = "b.test";

// ---- ae::dns on the built-in loop ----

double run_ae(const dns_test::dnsmasq& server, int depth, int total, bool stay_open) {
  auto l = ae::loop::create("poll");
  ae::dns::options o;
  o.servers = {server.server()};
  o.max_outstanding = static_cast<std::size_t>(depth);
  o.stay_open = stay_open;
  ae::dns::resolver r(o, l);
  int issued = 0, done = 0, failed = 0;
  std::function<void()> issue = [&] {
    ++issued;
    r.a(query_name, [&](std::error_code ec, std::vector<std::string> v) {
      ++done;
      if (ec || v.empty()) ++failed;
      if (issued < total) issue();
      if (done == total) l.stop();
    }).release();
  };
  const auto t0 = clock_type::now();
  for (int i = 0; i < depth && issued < total; ++i) issue();
  l.run();
  const double s = std::chrono::duration<double>(clock_type::now() - t0).count();
  if (failed) std::fprintf(stderr, "ae: %d queries failed\n", failed);
  return total / s;
}

// ---- raw c-ares on epoll ----

struct raw_state {
  ares_channel ch = nullptr;
  int ep = -1;
  int issued = 0, done = 0, failed = 0, total = 0;
};

void raw_sock_state(void* data, ares_socket_t fd, int readable, int writable) {
  auto* st = static_cast<raw_state*>(data);
  epoll_event ev{};
  ev.data.fd = fd;
  ev.events = (readable ? EPOLLIN : 0) | (writable ? EPOLLOUT : 0);
  if (!readable && !writable) {
    epoll_ctl(st->ep, EPOLL_CTL_DEL, fd, nullptr);
  } else if (epoll_ctl(st->ep, EPOLL_CTL_MOD, fd, &ev) != 0) {
    epoll_ctl(st->ep, EPOLL_CTL_ADD, fd, &ev);
  }
}

void raw_issue(raw_state* st);

void raw_answer(void* arg, int status, int, unsigned char* abuf, int alen) {
  auto* st = static_cast<raw_state*>(arg);
  ++st->done;
  ares_addrttl addrs[8];
  int n = 8;
  if (status != ARES_SUCCESS || ares_parse_a_reply(abuf, alen, nullptr, addrs, &n) != ARES_SUCCESS ||
      n < 1)
    ++st->failed;
  if (st->issued < st->total) raw_issue(st);
}

void raw_issue(raw_state* st) {
  ++st->issued;
  ares_search(st->ch, query_name, 1, 1, raw_answer, st);
}

double run_raw(const dns_test::dnsmasq& server, int depth, int total, bool stay_open) {
  raw_state st;
  st.total = total;
  st.ep = epoll_create1(EPOLL_CLOEXEC);
  ares_options o{};
  o.sock_state_cb = raw_sock_state;
  o.sock_state_cb_data = &st;
  o.flags = stay_open ? ARES_FLAG_STAYOPEN : 0;
  char lookups[] = "b";
  o.lookups = lookups;
  o.ndomains = 0;  // as ae::dns is configured: no search list
  if (ares_init_options(&st.ch, &o,
                        ARES_OPT_SOCK_STATE_CB | ARES_OPT_FLAGS | ARES_OPT_LOOKUPS | ARES_OPT_DOMAINS) !=
          ARES_SUCCESS ||
      ares_set_servers_ports_csv(st.ch, server.server().c_str()) != ARES_SUCCESS)
    throw std::runtime_error("ares init failed");
  const auto t0 = clock_type::now();
  for (int i = 0; i < depth && st.issued < total; ++i) raw_issue(&st);
  epoll_event evs[64];
  while (st.done < total) {
    timeval tv;
    timeval* t = ares_timeout(st.ch, nullptr, &tv);
    const int ms = t ? static_cast<int>(tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000) : -1;
    const int n = epoll_wait(st.ep, evs, 64, ms);
    if (n == 0) ares_process_fd(st.ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
    for (int i = 0; i < n; ++i)
      ares_process_fd(st.ch, (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) ? evs[i].data.fd : ARES_SOCKET_BAD,
                      (evs[i].events & EPOLLOUT) ? evs[i].data.fd : ARES_SOCKET_BAD);
  }
  const double s = std::chrono::duration<double>(clock_type::now() - t0).count();
  ares_destroy(st.ch);
  close(st.ep);
  if (st.failed) std::fprintf(stderr, "raw: %d queries failed\n", st.failed);
  return total / s;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

void compare(const dns_test::dnsmasq& server, int depth, int total, int pairs, bool stay_open) {
  std::vector<double> ae_qps, raw_qps, ratio;
  run_raw(server, depth, total / 4, stay_open);  // warm-up pair
  run_ae(server, depth, total / 4, stay_open);
  for (int i = 0; i < pairs; ++i) {
    const double raw = run_raw(server, depth, total, stay_open);
    const double ae = run_ae(server, depth, total, stay_open);
    raw_qps.push_back(raw);
    ae_qps.push_back(ae);
    ratio.push_back(ae / raw);
  }
  std::printf("%-3d in flight, %-10s  raw c-ares+epoll %8.0f q/s   ae::dns (poll) %8.0f q/s   "
              "ae/raw median %.3f  [min %.3f, max %.3f]\n",
              depth, stay_open ? "stay-open" : "default", median(raw_qps), median(ae_qps),
              median(ratio), *std::min_element(ratio.begin(), ratio.end()),
              *std::max_element(ratio.begin(), ratio.end()));
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const int pairs = argc > 1 ? std::max(7, std::atoi(argv[1])) : 7;
  const int n64 = argc > 2 ? std::atoi(argv[2]) : 20000;
  const int n1 = argc > 3 ? std::atoi(argv[3]) : 4000;
  ares_library_init(ARES_LIB_INIT_ALL);
  dns_test::dnsmasq server({"--local=/test/", "--address=/b.test/127.0.0.1"});
  // dnsmasq keeps the default affinity; this process runs on the last CPU only.
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)) - 1, &set);
  sched_setaffinity(0, sizeof set, &set);
  std::printf("dns-bench: %d pairs; A queries for %s against dnsmasq on %s\n", pairs, query_name,
              server.server().c_str());
  for (const bool stay_open : {false, true}) {
    compare(server, 64, n64, pairs, stay_open);
    compare(server, 1, n1, pairs, stay_open);
  }
  return 0;
}
