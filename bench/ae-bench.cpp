// ae-bench: anyevent against the libraries it runs on (DESIGN §7).
//
// For each workload and backend column, one child process runs the raw baseline(s) and
// anyevent on that backend interleaved (raw, ae, raw, ae, … : a discarded warm-up pair, then
// --pairs pairs), and reports every pair; the parent prints the median of the per-pair
// ratios ae/raw with their min and max, next to the absolute medians, and checks the bars.
//
// 1. One process per column: the core reads ANYEVENT_POLL_METHOD once per process, and a
//    fresh heap per column keeps the byte counts of one column from depending on another.
//    The parent never touches anyevent, so a fork without exec is safe.
// 2. The parent pins itself (and so every child) to one CPU when it may run on several:
//    both sides of a pair then see the same cache and the same frequency domain.
// 3. DESIGN §8: Debian's libev exports libevent's names. This binary links libevent before
//    libev (meson.build; `readelf -d ae-bench` shows the NEEDED order) and raw_libevent.cpp
//    refuses to run if the names bound to libev's shim.
// 4. ANYEVENT_BACKEND_PATH defaults to the build tree's module folders (AE_BENCH_MODULE_PATH),
//    so ae-bench run from the build folder finds the modules it was built with.
// 5. The dns workload (dns.cpp) is compiled in only when net/ and c-ares are (else dns_none.cpp),
//    needs /usr/sbin/dnsmasq, and is not part of `all`: with its 8 pairs of (c-ares, ae::dns)
//    runs per row and column it would add half a minute to the other workloads' run. When
//    it cannot run it says why and is skipped without making the exit status fail.
// 6. --aa (calibration): the ae slot runs the column's bar baseline again, so each row of
//    that baseline compares a side with itself, through the same pairs, order and windows.
//    Its spread is what this machine can resolve: a ratio inside the A/A range of the same
//    row is not a measured difference. No bar is checked in this mode.
// 7. The stream ping-pong (workload `handle`, also run by `pingpong` and `all`): ae::handle
//    (ae_handle.cpp) against libuv's own streams, raw-libuv-stream (raw_libuv_stream.cpp),
//    on every column; it needs libuv for the baseline and handle/ for the measured side,
//    and says which is missing when it cannot run.
// 8. The tls workload (tls.cpp; tls_none.cpp without handle/): TLS handshakes/s and bulk MiB/s
//    over socketpairs, ae::handle on the column's loop against OpenSSL on the sockets with a
//    minimal epoll loop ("openssl+epoll", every column, as dns's baseline). DESIGN §7 lists
//    it under "later" and names no bar, so its rows are information. Like dns it is not part
//    of `all`: a handshake is about a millisecond of crypto on both sides.
// 9. The c10k workload (c10k.cpp; c10k_none.cpp without libuv or handle/): many concurrent
//    echo connections, the server measured (raw-libuv-stream's streams against
//    ae::tcp_server + ae::handle), the client a raw epoll program in a second process on the
//    other CPUs. No bar either (DESIGN §7 "later"), not part of `all`.
#include "bench.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <sched.h>
#include <string_view>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef AE_BENCH_MODULE_PATH
#define AE_BENCH_MODULE_PATH ""
#endif

namespace ae::bench {
namespace {

const char* const usage_text =
    "usage: ae-bench io|timers|pingpong|handle|dns|tls|c10k|all [options]\n"
    "       ae-bench phase io SIDE [--preset P] [--config K] [--part loop|rearm]\n"
    "       ae-bench phase pingpong|handle SIDE [--preset P]\n"
    "       ae-bench phase timers SIDE [--preset P] [--part create|run]\n"
    "       ae-bench phase tls SIDE [--preset P] [--part handshake|bulk]\n"
    "\n"
    "Runs each workload with a raw library baseline and with anyevent on the same backend,\n"
    "interleaved in one process (a warm-up pair, then --pairs pairs), pinned to one CPU, and\n"
    "prints the absolute medians, the median ae/raw ratio of the pairs with min and max, and\n"
    "PASS/FAIL against the bars of DESIGN.md section 7.\n"
    "\n"
    "workloads:\n"
    "  io        libevent's test/bench.c: N socket pairs, A active, W chained writes;\n"
    "            cold setup, warm re-arm (destroy + create; then its two parts: the calls,\n"
    "            and the iteration after each round), loop ns/event, heap bytes/watcher\n"
    "  timers    one-shot timers with random timeouts; create ns, run CPU ns, bytes per timer\n"
    "  pingpong  one loopback TCP connection, 64-byte messages, round trips per second:\n"
    "            over ae::io watchers, then the handle workload\n"
    "  handle    the same ping-pong over buffered streams: ae::handle (push_write, queued\n"
    "            ae::chunk(64) reads) against raw-libuv-stream (uv_tcp_t, uv_read_start,\n"
    "            uv_try_write) on every column; round trips/s (the bar) and, as\n"
    "            information, thread CPU ns per round trip (less disturbed by other load)\n"
    "  dns       A queries/s against a local dnsmasq, 64 and 1 in flight, each answer\n"
    "            asking the next question; c-ares on a raw epoll loop vs ae::dns on the\n"
    "            column's loop (full preset: stay-open rows too). Needs /usr/sbin/dnsmasq\n"
    "            (skipped without it)\n"
    "  tls       TLS handshakes/s (one at a time) and bulk MiB/s (client to server, 64 KiB\n"
    "            writes) over socketpairs: ae::handle on the column's loop against OpenSSL\n"
    "            on the sockets with a minimal epoll loop; same SSL_CTX, ECDSA P-256 key.\n"
    "            Information: DESIGN names no bar for it\n"
    "  c10k      concurrent echo connections, 20 round trips of 64 bytes each, the client a\n"
    "            raw epoll program in a second process: the server on libuv's streams\n"
    "            (raw-libuv-stream) against ae::tcp_server + ae::handle on the column's loop;\n"
    "            round trips/s, the server's CPU ns per round trip and heap bytes per\n"
    "            connection. Information: DESIGN names no bar for it\n"
    "  all       io, timers, pingpong and handle (not dns, tls, c10k)\n"
    "\n"
    "options:\n"
    "  --backend LIST   comma list of columns: poll, poll-posix (built-in loop with\n"
    "                   ANYEVENT_POLL_METHOD=poll), libev, libevent, libuv (default: all;\n"
    "                   columns whose module cannot be loaded are skipped)\n"
    "  --pairs N        measured pairs after the warm-up pair (default 7)\n"
    "  --preset P       quick (default) or full: io N/A/W = 1000/100/1000, 9000/100/1000,\n"
    "                   9000/1000/10000; 1,000,000 timers of 1-1000 ms; 50,000 round trips;\n"
    "                   dns 40,000 / 8,000 queries at 64 / 1 in flight (quick: 10,000 / 3,000);\n"
    "                   tls 1,000 handshakes and 256 MiB (quick: 200 and 32 MiB);\n"
    "                   c10k 10,000 connections (quick: 1,000)\n"
    "  --json FILE      also write every row, with its samples, to FILE\n"
    "  --aa             calibration: the ae slot runs the column's bar baseline again (the\n"
    "                   last one listed below), so its rows compare a side with itself and\n"
    "                   show the noise floor of this machine; no bar is checked\n"
    "  --help           this text\n"
    "\n"
    "baselines: poll - raw-epoll (a minimal careful epoll loop) and raw-libev (io), raw-libev\n"
    "(timers); poll-posix - raw-poll (a minimal poll(2) loop), raw-libev (timers); libev,\n"
    "libevent, libuv - the library used directly; handle - raw-libuv-stream for every column\n"
    "(ratio>=1.00 on poll and poll-posix, >=0.90 elsewhere); dns - c-ares+epoll for every column, the\n"
    "bar (ratio>=0.9, issue 5) on the poll column only; tls - openssl+epoll for every column,\n"
    "no bar; c10k - raw-libuv-stream's server, no bar. Bars marked * are derived: DESIGN names none for ae::io ping-pong over X or\n"
    "poll-posix, so 1/1.05 (io loop) and 1/1.10 apply.\n"
    "\n"
    "phase: runs one SIDE (raw-epoll, raw-poll, raw-libev, raw-libevent, raw-libuv, ae/COLUMN;\n"
    "for handle: raw-libuv-stream, ae/COLUMN; for tls: openssl+epoll, ae/COLUMN)\n"
    "once and prints the events of its measured phase (for bench/callgrind.sh); for io, the\n"
    "measured phase is the loop (--part loop, the default) or the re-arm rounds (--part\n"
    "rearm, counted per re-arm); for timers, creating them (--part create, the default) or\n"
    "running them; for tls, the bulk transfer (--part bulk, the default) or the handshakes.\n"
    "\n"
    "exit status: 0 every bar met (always, with --aa), 1 some bar missed, 2 usage error or\n"
    "a run failed.\n";

const char* const all_columns[] = {"poll", "poll-posix", "libev", "libevent", "libuv"};

enum class kind { io, timers, pingpong, handle, dns, tls, c10k };

struct workload {
  kind k;
  std::string title;
  io_config io{};
  timer_config timers{};
  pingpong_config pp{};
  dns_config dns{};
  tls_config tls{};
  c10k_config c10k{};
};

const char* const dnsmasq_path = "/usr/sbin/dnsmasq";  // as tests/net/dns_server.cpp
const char* const dns_baseline = "c-ares+epoll";
const char* const tls_baseline = "openssl+epoll";

std::vector<workload> preset_workloads(bool full, kind k) {
  std::vector<workload> v;
  if (k == kind::io) {
    // Enough events per run that one run is milliseconds, not microseconds, of loop; and
    // enough re-arms that the re-arm window is milliseconds too, over several rounds (one
    // round right after the setup is neither warm nor long enough to be steady).
    const int target = full ? 20000 : 5000;
    const int rearm_target = full ? 200'000 : 50'000;
    const std::vector<std::array<int, 3>> cfgs =
        full ? std::vector<std::array<int, 3>>{{1000, 100, 1000}, {9000, 100, 1000}, {9000, 1000, 10000}}
             : std::vector<std::array<int, 3>>{{1000, 100, 1000}, {3000, 100, 1000}};
    for (auto [n, a, w] : cfgs) {
      workload x{kind::io, "io  N=" + std::to_string(n) + " A=" + std::to_string(a) + " W=" + std::to_string(w)};
      x.io = {n, a, w, std::max(3, rearm_target / n), std::max(1, target / (a + w))};
      v.push_back(x);
    }
  } else if (k == kind::timers) {
    workload x{kind::timers, ""};
    x.timers = full ? timer_config{1'000'000, 1000} : timer_config{100'000, 100};
    x.title = "timers  " + std::to_string(x.timers.count) + " one-shot, 1-" + std::to_string(x.timers.max_ms) + " ms";
    v.push_back(x);
  } else if (k == kind::dns) {
    const int n64 = full ? 40'000 : 10'000, n1 = full ? 8'000 : 3'000;
    for (const bool stay_open : full ? std::vector<bool>{false, true} : std::vector<bool>{false}) {
      for (const int depth : {64, 1}) {
        workload x{kind::dns, "dns " + std::to_string(depth) + " in flight" + (stay_open ? ", stay_open" : "")};
        x.dns = {depth, depth == 1 ? n1 : n64, stay_open};
        x.title += "  (" + std::to_string(x.dns.queries) + " A queries, dnsmasq)";
        v.push_back(x);
      }
    }
  } else if (k == kind::c10k) {
    workload x{kind::c10k, ""};
    x.c10k = {full ? 10'000 : 1'000, 20};
    x.title = "c10k  " + std::to_string(x.c10k.connections) + " connections x " + std::to_string(x.c10k.rounds) +
              " round trips of 64 bytes, echo server";
    v.push_back(x);
  } else if (k == kind::tls) {
    workload x{kind::tls, ""};
    x.tls = full ? tls_config{1000, 256L << 20} : tls_config{200, 32L << 20};
    x.title = "tls  " + std::to_string(x.tls.handshakes) + " handshakes, " + std::to_string(x.tls.bytes >> 20) +
              " MiB (ECDSA P-256, socketpairs)";
    v.push_back(x);
  } else if (k == kind::handle) {
    workload x{kind::handle, ""};
    x.pp = {full ? 50'000 : 5'000};
    x.title = "pingpong  " + std::to_string(x.pp.round_trips) + " round trips of 64 bytes, ae::handle";
    v.push_back(x);
  } else {
    workload x{kind::pingpong, ""};
    x.pp = {full ? 50'000 : 5'000};
    x.title = "pingpong  " + std::to_string(x.pp.round_trips) + " round trips of 64 bytes, ae::io";
    v.push_back(x);
  }
  return v;
}

bool built_in(std::string_view column) { return column == "poll" || column == "poll-posix"; }

std::vector<std::string> baselines(kind k, const std::string& column) {
  if (k == kind::dns) return dns_built() ? std::vector<std::string>{dns_baseline} : std::vector<std::string>{};
  if (k == kind::tls) return tls_built() ? std::vector<std::string>{tls_baseline} : std::vector<std::string>{};
  if (k == kind::c10k) return c10k_built() ? std::vector<std::string>{"raw-libuv-stream"} : std::vector<std::string>{};
  std::vector<std::string> v;
  if (k == kind::handle) v = {"raw-libuv-stream"};  // every column (note 7)
  else if (column == "poll") v = k == kind::io ? std::vector<std::string>{"raw-epoll", "raw-libev"}
                               : k == kind::timers ? std::vector<std::string>{"raw-libev"}
                                                   : std::vector<std::string>{"raw-epoll"};
  else if (column == "poll-posix") v = {k == kind::timers ? "raw-libev" : "raw-poll"};
  else v = {"raw-" + column};
  std::erase_if(v, [](const std::string& s) { return !find_raw(s); });
  return v;
}

// ---- bars ----

struct bar {
  enum type { ratio_le, ratio_ge, abs_le, delta_le } t;
  double v;
  bool derived = false;

  std::string text() const {
    char b[48];
    switch (t) {
      case ratio_le: std::snprintf(b, sizeof b, "ratio<=%.2f", v); break;
      case ratio_ge: std::snprintf(b, sizeof b, "ratio>=%.3f", v); break;
      case abs_le: std::snprintf(b, sizeof b, "ae<=%g", v); break;
      case delta_le: std::snprintf(b, sizeof b, "ae<=raw+%g", v); break;
    }
    return std::string(b) + (derived ? "*" : "");
  }
};

struct metric_name {
  const char* key;
  const char* label;
};
constexpr metric_name metric_names[] = {
    {"setup", "setup ns/w"},
    {"rearm", "re-arm ns/op"},
    {"rearm_calls", " of it: calls"},
    {"rearm_iter", " of it: iter"},
    {"loop", "loop ns/ev"},
    {"bytes", "heap B/w"},
    {"create", "create ns/t"},
    {"run", "run cpu ns/t"},
    {"tbytes", "heap B/t"},
    {"rtps", "round trips/s"},
    {"hrtps", "round trips/s"},
    {"hcpu", "cpu ns/rt"},
    {"qps", "queries/s"},
    {"qps_so", "queries/s"},
    {"tls_hs", "handshakes/s"},
    {"tls_bulk", "MiB/s"},
    {"c10k_rtps", "round trips/s"},
    {"c10k_cpu", "srv cpu ns/rt"},
    {"c10k_bytes", "heap B/conn"},
};

const char* label(const std::string& key) {
  for (auto& m : metric_names)
    if (key == m.key) return m.label;
  return key.c_str();
}

/// DESIGN §7's bars for one row. `first` is the column's first baseline: bars on the ae
/// figure alone are checked there once.
std::vector<bar> bars_for(const std::string& column, const std::string& baseline, const std::string& metric, bool first) {
  const bool bi = built_in(column);
  std::vector<bar> v;
  if (metric == "rearm") {
    // <= 100 ns is the lazy epoll diff's bar. The poll(2) variant's is its own row, <= 1.10x
    // a raw poll(2) loop: its window holds a poll(2) over every fd, which alone costs a raw
    // poll(2) loop 60-100 ns per re-arm at 1,000-3,000 fds.
    if (column == "poll" && first) v.push_back({bar::abs_le, 100});
    if (column == "poll-posix") v.push_back({bar::ratio_le, 1.10});
    if (!bi) v.push_back({bar::ratio_le, 1.10});
  } else if (metric == "loop") {
    if (column == "poll" && baseline == "raw-libev") v.push_back({bar::ratio_le, 1.00});
    else if (column == "poll-posix") v.push_back({bar::ratio_le, 1.10});
    else if (!bi) v.push_back({bar::ratio_le, 1.05});
  } else if (metric == "bytes") {
    if (bi && first) v.push_back({bar::abs_le, 128});
    if (!bi) v.push_back({bar::delta_le, 64});
  } else if (metric == "create" || metric == "run") {
    v.push_back({bar::ratio_le, bi ? 1.00 : 1.10});
  } else if (metric == "tbytes") {
    v.push_back(bi ? bar{bar::abs_le, 64} : bar{bar::delta_le, 64});
  } else if (metric == "qps") {  // issue 5, default options; other columns are info
    if (column == "poll") v.push_back({bar::ratio_ge, 0.9});
  } else if (metric == "hrtps") {  // ae::handle against libuv's streams
    v.push_back({bar::ratio_ge, bi ? 1.00 : 0.90});
  } else if (metric == "rtps") {
    if (column == "poll") v.push_back({bar::ratio_ge, 0.95});
    else if (column == "poll-posix") v.push_back({bar::ratio_ge, 1 / 1.10, true});
    else v.push_back({bar::ratio_ge, 1 / 1.05, true});
  }
  return v;
}

// ---- statistics ----

double median(std::vector<double> v) {
  if (v.empty()) return NAN;
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

struct row {
  std::string workload, column, baseline, metric;
  std::vector<double> raw, ae;
  double raw_med = 0, ae_med = 0, r_med = 0, r_min = 0, r_max = 0;
  std::vector<bar> bars;
  std::string result;  // "PASS", "FAIL" or "-"

  void evaluate(bool first, bool aa) {
    std::vector<double> ratios, deltas;
    for (std::size_t i = 0; i < raw.size(); ++i) {
      ratios.push_back(raw[i] > 0 ? ae[i] / raw[i] : NAN);
      deltas.push_back(ae[i] - raw[i]);
    }
    raw_med = median(raw);
    ae_med = median(ae);
    r_med = median(ratios);
    r_min = *std::min_element(ratios.begin(), ratios.end());
    r_max = *std::max_element(ratios.begin(), ratios.end());
    if (!aa) bars = bars_for(column, baseline, metric, first);
    if (bars.empty()) {
      result = "-";
      return;
    }
    bool ok = true;
    for (const bar& b : bars) {
      switch (b.t) {
        case bar::ratio_le: ok = ok && r_med <= b.v; break;
        case bar::ratio_ge: ok = ok && r_med >= b.v; break;
        case bar::abs_le: ok = ok && ae_med <= b.v; break;
        case bar::delta_le: ok = ok && median(deltas) <= b.v; break;
      }
    }
    result = ok ? "PASS" : "FAIL";
  }
};

std::string num(double x) {
  char b[32];
  if (std::isnan(x)) return "nan";
  std::snprintf(b, sizeof b, std::fabs(x) >= 10000 ? "%.0f" : "%.1f", x);
  return b;
}

// ---- the child: one column of one workload ----

void emit(FILE* out, const std::string& baseline, const char* metric, double raw, double ae) {
  std::fprintf(out, "row %s %s %.17g %.17g\n", baseline.c_str(), metric, raw, ae);
}

void run_column(const workload& w, const std::string& column, int pairs, bool aa, FILE* out) {
  if (column == "poll-posix") ::setenv("ANYEVENT_POLL_METHOD", "poll", 1);
  else ::unsetenv("ANYEVENT_POLL_METHOD");
  const std::vector<std::string> bnames = baselines(w.k, column);
  if (bnames.empty()) {
    if (w.k == kind::dns) std::fprintf(out, "skip ae-bench was built without ae::dns (net/, c-ares)\n");
    else if (w.k == kind::tls) std::fprintf(out, "skip ae-bench was built without ae::handle (handle/)\n");
    else if (w.k == kind::c10k) std::fprintf(out, "skip ae-bench was built without libuv or ae::handle\n");
    else if (w.k == kind::handle) std::fprintf(out, "skip ae-bench was built without libuv (raw-libuv-stream)\n");
    else std::fprintf(out, "skip ae-bench was built without the %s library\n", column.c_str());
    return;
  }
  if (w.k == kind::handle && !aa && !ae_handle_pingpong(column == "poll-posix" ? "poll" : column)) {
    std::fprintf(out, "skip ae-bench was built without ae::handle (handle/)\n");  // note 7
    return;
  }
  std::string probe = ae_probe(column);
  std::replace(probe.begin(), probe.end(), '\n', ' ');
  if (probe.rfind("ok", 0) != 0) {
    std::fprintf(out, "skip %s\n", probe.c_str());
    return;
  }
  if (aa) std::fprintf(out, "info A/A: the ae slot runs %s (note 6)\n", bnames.back().c_str());
  else std::fprintf(out, "info anyevent %s, baseline %s\n", probe.c_str() + 3, bnames[0].c_str());
  std::fflush(out);
  // dns, tls and c10k baselines are not sides (dns.cpp, tls.cpp run them); their A/A twins are
  // chosen below.
  const side* twin = aa && w.k != kind::dns && w.k != kind::tls && w.k != kind::c10k ? find_raw(bnames.back()) : nullptr;
  const side ae = twin ? *twin : ae_side(column);
  std::vector<const side*> raws;
  for (const auto& b : bnames) raws.push_back(find_raw(b));

  if (w.k == kind::io) {
    const socket_pairs sp(w.io.pairs);
    for (int p = 0; p <= pairs; ++p) {
      std::vector<io_result> r;
      for (const side* s : raws) r.push_back(s->io(w.io, sp));
      const io_result a = ae.io(w.io, sp);
      if (p == 0) continue;  // warm-up
      for (std::size_t i = 0; i < raws.size(); ++i) {
        emit(out, bnames[i], "setup", r[i].setup_ns, a.setup_ns);
        emit(out, bnames[i], "rearm", r[i].rearm_ns, a.rearm_ns);
        emit(out, bnames[i], "rearm_calls", r[i].rearm_calls_ns, a.rearm_calls_ns);
        emit(out, bnames[i], "rearm_iter", r[i].rearm_iter_ns, a.rearm_iter_ns);
        emit(out, bnames[i], "loop", r[i].loop_ns, a.loop_ns);
        emit(out, bnames[i], "bytes", r[i].bytes, a.bytes);
      }
    }
  } else if (w.k == kind::timers) {
    const std::vector<int> timeouts = timer_timeouts(w.timers);
    for (int p = 0; p <= pairs; ++p) {
      std::vector<timer_result> r;
      for (const side* s : raws) r.push_back(s->timers(w.timers, timeouts));
      const timer_result a = ae.timers(w.timers, timeouts);
      if (p == 0) continue;
      for (std::size_t i = 0; i < raws.size(); ++i) {
        emit(out, bnames[i], "create", r[i].create_ns, a.create_ns);
        emit(out, bnames[i], "run", r[i].run_ns, a.run_ns);
        emit(out, bnames[i], "tbytes", r[i].bytes, a.bytes);
      }
    }
  } else if (w.k == kind::dns) {
    dns_library_init();
    std::unique_ptr<dns_responder> server;
    try {
      server = std::make_unique<dns_responder>();
    } catch (const std::exception& e) {
      std::fprintf(out, "skip dnsmasq: %s\n", e.what());
      return;
    }
    const std::string backend = column == "poll-posix" ? "poll" : column;
    const char* metric = w.dns.stay_open ? "qps_so" : "qps";
    dns_config warm = w.dns;
    warm.queries = std::max(w.dns.depth, w.dns.queries / 4);
    for (int p = 0; p <= pairs; ++p) {
      const dns_config& c = p == 0 ? warm : w.dns;  // a shorter warm-up pair
      const dns_result r = run_dns_raw(c, *server);
      const dns_result a = aa ? run_dns_raw(c, *server) : run_dns_ae(c, *server, backend);
      if (p == 0) continue;
      emit(out, bnames[0], metric, r.qps, a.qps);
    }
  } else if (w.k == kind::c10k) {
    const std::string backend = column == "poll-posix" ? "poll" : column;
    for (int p = 0; p <= pairs; ++p) {
      const c10k_result r = run_c10k_raw(w.c10k);
      const c10k_result a = aa ? run_c10k_raw(w.c10k) : run_c10k_ae(w.c10k, backend);
      if (p == 0) continue;
      emit(out, bnames[0], "c10k_rtps", r.rt_per_s, a.rt_per_s);
      emit(out, bnames[0], "c10k_cpu", r.server_cpu_ns, a.server_cpu_ns);
      emit(out, bnames[0], "c10k_bytes", r.bytes_per_conn, a.bytes_per_conn);
    }
  } else if (w.k == kind::tls) {
    const tls_peers peers;
    const std::string backend = column == "poll-posix" ? "poll" : column;
    tls_config warm = w.tls;  // a shorter warm-up pair
    warm.handshakes = std::max(10, w.tls.handshakes / 4);
    warm.bytes = w.tls.bytes / 4;
    for (int p = 0; p <= pairs; ++p) {
      const tls_config& c = p == 0 ? warm : w.tls;
      const tls_result r = run_tls_raw(c, peers);
      const tls_result a = aa ? run_tls_raw(c, peers) : run_tls_ae(c, peers, backend);
      if (p == 0) continue;
      emit(out, bnames[0], "tls_hs", r.hs_per_s, a.hs_per_s);
      emit(out, bnames[0], "tls_bulk", r.mib_per_s, a.mib_per_s);
    }
  } else if (w.k == kind::handle) {
    pingpong_ctx ctx;
    for (int p = 0; p <= pairs; ++p) {
      const pingpong_result r = raws[0]->stream(w.pp, ctx);
      const pingpong_result a = ae.stream(w.pp, ctx);
      if (p == 0) continue;
      emit(out, bnames[0], "hrtps", r.rt_per_s, a.rt_per_s);
      emit(out, bnames[0], "hcpu", r.cpu_ns, a.cpu_ns);
    }
  } else {
    pingpong_ctx ctx;
    for (int p = 0; p <= pairs; ++p) {
      std::vector<pingpong_result> r;
      for (const side* s : raws) r.push_back(s->pingpong(w.pp, ctx));
      const pingpong_result a = ae.pingpong(w.pp, ctx);
      if (p == 0) continue;
      for (std::size_t i = 0; i < raws.size(); ++i) emit(out, bnames[i], "rtps", r[i].rt_per_s, a.rt_per_s);
    }
  }
}

// ---- the parent ----

struct column_outcome {
  std::vector<row> rows;
  std::string skipped;  // why, when the column did not run
  std::string info;
  std::string error;    // the child failed
};

column_outcome run_child(const workload& w, const std::string& column, int pairs, bool aa) {
  column_outcome o;
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) < 0) die(std::string("pipe: ") + std::strerror(errno));
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid < 0) die(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) {
    ::close(fds[0]);
    FILE* out = ::fdopen(fds[1], "w");
    try {
      run_column(w, column, pairs, aa, out);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "ae-bench: %s: %s\n", column.c_str(), e.what());
      std::fflush(out);
      std::_Exit(2);
    }
    std::fclose(out);
    std::_Exit(0);
  }
  ::close(fds[1]);
  FILE* in = ::fdopen(fds[0], "r");
  std::map<std::pair<std::string, std::string>, std::size_t> index;
  char* line = nullptr;
  std::size_t cap = 0;
  ssize_t len;
  while ((len = ::getline(&line, &cap, in)) > 0) {
    std::string l(line, line[len - 1] == '\n' ? len - 1 : len);
    if (l.rfind("skip ", 0) == 0) {
      o.skipped = l.substr(5);
    } else if (l.rfind("info ", 0) == 0) {
      o.info = l.substr(5);
    } else if (l.rfind("row ", 0) == 0) {
      char b[64], m[32];
      double raw, ae;
      if (std::sscanf(l.c_str(), "row %63s %31s %lf %lf", b, m, &raw, &ae) != 4) continue;
      auto key = std::make_pair(std::string(b), std::string(m));
      auto it = index.find(key);
      if (it == index.end()) {
        it = index.emplace(key, o.rows.size()).first;
        row r;
        r.workload = w.title;
        r.column = column;
        r.baseline = b;
        r.metric = m;
        o.rows.push_back(std::move(r));
      }
      o.rows[it->second].raw.push_back(raw);
      o.rows[it->second].ae.push_back(ae);
    }
  }
  std::free(line);
  std::fclose(in);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) o.error = std::string("killed by ") + ::strsignal(WTERMSIG(status));
  else if (WEXITSTATUS(status)) o.error = "exited with status " + std::to_string(WEXITSTATUS(status));
  const std::string first = o.rows.empty() ? "" : o.rows.front().baseline;
  for (auto& r : o.rows) r.evaluate(r.baseline == first, aa);
  return o;
}

int pin_cpu() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) < 0 || CPU_COUNT(&set) < 2) return -1;
  int cpu = -1;
  for (int c = 0; c < CPU_SETSIZE; ++c)
    if (CPU_ISSET(c, &set)) cpu = c;  // the last: CPU 0 usually takes more interrupts
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(cpu, &one);
  return ::sched_setaffinity(0, sizeof one, &one) < 0 ? -1 : cpu;
}

rlim_t raise_fd_limit() {
  rlimit rl;
  if (::getrlimit(RLIMIT_NOFILE, &rl) < 0) return 1024;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &rl);
    ::getrlimit(RLIMIT_NOFILE, &rl);
  }
  return rl.rlim_cur;
}

std::string json_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    if (c == '"' || c == '\\') o += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    o += c;
  }
  return o;
}

std::string json_number(double x) {
  if (!std::isfinite(x)) return "null";
  char b[40];
  std::snprintf(b, sizeof b, "%.6g", x);
  return b;
}

bool write_json(const std::string& path, const std::vector<row>& rows, int pairs, int cpu, const std::string& preset,
                bool aa) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (!f) return false;
  std::fprintf(f, "{\n  \"preset\": \"%s\", \"pairs\": %d, \"cpu\": %d, \"aa\": %s,\n  \"rows\": [\n", preset.c_str(),
               pairs, cpu, aa ? "true" : "false");
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const row& r = rows[i];
    auto list = [](const std::vector<double>& v) {
      std::string s = "[";
      for (std::size_t j = 0; j < v.size(); ++j) s += (j ? ", " : "") + json_number(v[j]);
      return s + "]";
    };
    std::string bars = "[";
    for (std::size_t j = 0; j < r.bars.size(); ++j) bars += (j ? ", \"" : "\"") + json_escape(r.bars[j].text()) + "\"";
    bars += "]";
    std::fprintf(f,
                 "    {\"workload\": \"%s\", \"column\": \"%s\", \"baseline\": \"%s\", \"metric\": \"%s\", "
                 "\"unit\": \"%s\", \"raw\": %s, \"ae\": %s, \"ratio\": %s, \"ratio_min\": %s, "
                 "\"ratio_max\": %s, \"bars\": %s, \"result\": \"%s\", \"raw_samples\": %s, \"ae_samples\": %s}%s\n",
                 json_escape(r.workload).c_str(), r.column.c_str(), r.baseline.c_str(), r.metric.c_str(),
                 label(r.metric), json_number(r.raw_med).c_str(), json_number(r.ae_med).c_str(),
                 json_number(r.r_med).c_str(), json_number(r.r_min).c_str(), json_number(r.r_max).c_str(),
                 bars.c_str(), r.result.c_str(), list(r.raw).c_str(), list(r.ae).c_str(),
                 i + 1 < rows.size() ? "," : "");
  }
  std::fprintf(f, "  ]\n}\n");
  return std::fclose(f) == 0;
}

int run_phase(int argc, char** argv) {
  // ae-bench phase io|pingpong|handle|timers SIDE [--preset P] [--config K] [--part loop|rearm|create|run]
  if (argc < 4) {
    std::fputs(usage_text, stderr);
    return 2;
  }
  const std::string what = argv[2], side_name = argv[3];
  bool full = false;
  int config = 0;
  std::string part;
  for (int i = 4; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--preset" && i + 1 < argc) full = std::string(argv[++i]) == "full";
    else if (a == "--config" && i + 1 < argc) config = std::atoi(argv[++i]);
    else if (a == "--part" && i + 1 < argc) part = argv[++i];
    else {
      std::fprintf(stderr, "ae-bench phase: unknown argument '%s'\n", a.c_str());
      return 2;
    }
  }
  if (what == "io" && (part.empty() || part == "loop" || part == "rearm")) {
    io_measured_part = part == "rearm" ? io_part::rearm : io_part::loop;
  } else if (what == "timers" && (part.empty() || part == "create" || part == "run")) {
    timer_measured_part = part == "run" ? timer_part::run : timer_part::create;
  } else if (what == "tls" && (part.empty() || part == "bulk" || part == "handshake")) {
    tls_measured_part = part == "handshake" ? tls_part::handshake : tls_part::bulk;
  } else if (!part.empty()) {
    std::fprintf(stderr,
                 "ae-bench phase: --part '%s' does not name a part of '%s' (io: loop or rearm; timers: create or "
                 "run; tls: bulk or handshake)\n",
                 part.c_str(), what.c_str());
    return 2;
  }
  if (what == "tls") {
    if (!tls_built()) {
      std::fprintf(stderr, "ae-bench phase: ae-bench was built without ae::handle (handle/)\n");
      return 2;
    }
    const bool ae = side_name.rfind("ae/", 0) == 0;
    const std::string column = ae ? side_name.substr(3) : "";
    if (!ae && side_name != tls_baseline) {
      std::fprintf(stderr, "ae-bench phase: side '%s' cannot run 'tls' (%s or ae/COLUMN)\n", side_name.c_str(), tls_baseline);
      return 2;
    }
    if (column == "poll-posix") ::setenv("ANYEVENT_POLL_METHOD", "poll", 1);
    else ::unsetenv("ANYEVENT_POLL_METHOD");
    tls_config c = preset_workloads(full, kind::tls)[0].tls;
    if (tls_measured_part == tls_part::bulk) c.handshakes = 0;  // only the part counted runs
    else c.bytes = 0;
    const tls_peers peers;
    if (ae) run_tls_ae(c, peers, column == "poll-posix" ? "poll" : column);
    else run_tls_raw(c, peers);
    if (tls_measured_part == tls_part::bulk) std::printf("events %ld KiB\n", c.bytes >> 10);
    else std::printf("events %d handshake\n", c.handshakes);
    return 0;
  }
  side s;
  if (side_name.rfind("ae/", 0) == 0) {
    const std::string column = side_name.substr(3);
    if (column == "poll-posix") ::setenv("ANYEVENT_POLL_METHOD", "poll", 1);
    else ::unsetenv("ANYEVENT_POLL_METHOD");
    s = ae_side(column);
  } else if (const side* r = find_raw(side_name)) {
    s = *r;
  } else {
    std::fprintf(stderr, "ae-bench phase: unknown side '%s'\n", side_name.c_str());
    return 2;
  }
  if (what == "io" && s.io) {
    auto ws = preset_workloads(full, kind::io);
    if (config < 0 || config >= static_cast<int>(ws.size())) {
      std::fprintf(stderr, "ae-bench phase: --config must be 0..%zu\n", ws.size() - 1);
      return 2;
    }
    const socket_pairs sp(ws[config].io.pairs);
    const io_result r = s.io(ws[config].io, sp);
    if (io_measured_part == io_part::rearm)
      std::printf("events %ld re-arm\n", static_cast<long>(ws[config].io.pairs) * ws[config].io.rearm_rounds);
    else
      std::printf("events %ld event\n", r.events);
    return 0;
  }
  if (what == "timers" && s.timers) {
    auto ws = preset_workloads(full, kind::timers);
    s.timers(ws[0].timers, timer_timeouts(ws[0].timers));
    std::printf("events %d timer\n", ws[0].timers.count);
    return 0;
  }
  if (what == "pingpong" && s.pingpong) {
    auto ws = preset_workloads(full, kind::pingpong);
    pingpong_ctx ctx;
    s.pingpong(ws[0].pp, ctx);
    std::printf("events %d event (2 per round trip)\n", 2 * ws[0].pp.round_trips);
    return 0;
  }
  if (what == "handle" && !s.stream && side_name.rfind("ae/", 0) == 0) {
    std::fprintf(stderr, "ae-bench phase: ae-bench was built without ae::handle (handle/)\n");
    return 2;
  }
  if (what == "handle" && s.stream) {
    auto ws = preset_workloads(full, kind::handle);
    pingpong_ctx ctx;
    s.stream(ws[0].pp, ctx);
    std::printf("events %d event (2 per round trip)\n", 2 * ws[0].pp.round_trips);
    return 0;
  }
  std::fprintf(stderr, "ae-bench phase: side '%s' cannot run '%s'\n", side_name.c_str(), what.c_str());
  return 2;
}

int main_impl(int argc, char** argv) {
  if (!::getenv("ANYEVENT_BACKEND_PATH") && *AE_BENCH_MODULE_PATH)
    ::setenv("ANYEVENT_BACKEND_PATH", AE_BENCH_MODULE_PATH, 1);
  std::string cmd;
  std::vector<std::string> columns;
  bool explicit_columns = false;
  int pairs = 7;
  std::string preset = "quick";
  std::string json;
  bool aa = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* opt) -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "ae-bench: %s needs a value (try --help)\n", opt);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--help" || a == "-h") {
      std::fputs(usage_text, stdout);
      return 0;
    } else if (a == "phase" && i == 1) {
      return run_phase(argc, argv);
    } else if (a == "--backend") {
      const std::string list = value("--backend");
      explicit_columns = true;
      for (std::size_t s = 0; s <= list.size();) {
        const std::size_t e = std::min(list.find(',', s), list.size());
        const std::string n = list.substr(s, e - s);
        if (!n.empty()) {
          if (std::find(std::begin(all_columns), std::end(all_columns), n) == std::end(all_columns)) {
            std::fprintf(stderr, "ae-bench: unknown backend '%s' (poll, poll-posix, libev, libevent, libuv)\n", n.c_str());
            return 2;
          }
          columns.push_back(n);
        }
        s = e + 1;
      }
    } else if (a == "--pairs") {
      const std::string v = value("--pairs");
      char* end = nullptr;
      const long n = std::strtol(v.c_str(), &end, 10);
      if (*end || n < 1 || n > 1000) {
        std::fprintf(stderr, "ae-bench: --pairs must be a number from 1 to 1000\n");
        return 2;
      }
      pairs = static_cast<int>(n);
    } else if (a == "--preset") {
      preset = value("--preset");
      if (preset != "quick" && preset != "full") {
        std::fprintf(stderr, "ae-bench: --preset must be quick or full\n");
        return 2;
      }
    } else if (a == "--json") {
      json = value("--json");
    } else if (a == "--aa") {
      aa = true;
    } else if (cmd.empty() && (a == "io" || a == "timers" || a == "pingpong" || a == "handle" || a == "dns" || a == "tls" ||
                               a == "c10k" || a == "all")) {
      cmd = a;
    } else {
      std::fprintf(stderr, "ae-bench: unknown argument '%s' (try --help)\n", a.c_str());
      return 2;
    }
  }
  if (cmd.empty()) {
    std::fputs("usage: ae-bench io|timers|pingpong|handle|dns|tls|c10k|all [--backend LIST] [--pairs N] [--preset quick|full]\n"
               "                [--json FILE] [--aa]   (try --help)\n", stderr);
    return 2;
  }
  if (columns.empty()) columns.assign(std::begin(all_columns), std::end(all_columns));

  const int cpu = pin_cpu();
  const rlim_t fd_limit = raise_fd_limit();
  const bool full = preset == "full";
  std::vector<workload> work;
  for (kind k : {kind::io, kind::timers, kind::pingpong, kind::handle, kind::dns, kind::tls, kind::c10k}) {
    const char* name = k == kind::io ? "io" : k == kind::timers ? "timers" : k == kind::pingpong ? "pingpong"
                     : k == kind::handle ? "handle" : k == kind::dns ? "dns" : k == kind::tls ? "tls" : "c10k";
    // note 7: `pingpong` runs both ping-pongs, the ae::io one and the ae::handle one; notes 5
    // 8 and 9: `all` runs neither dns, tls nor c10k.
    const bool in_all = k != kind::dns && k != kind::tls && k != kind::c10k;
    if (cmd != name && (cmd != "all" || !in_all) && !(cmd == "pingpong" && k == kind::handle)) continue;
    for (auto& w : preset_workloads(full, k)) work.push_back(w);
  }

  std::printf("ae-bench: preset %s, %d pairs after a warm-up pair, %s\n", preset.c_str(), pairs,
              cpu >= 0 ? ("pinned to CPU " + std::to_string(cpu)).c_str() : "not pinned (one CPU)");
  std::printf("ratio = ae/raw per pair (median [min, max]); raw and ae are medians. "
              "For round trips/s and queries/s higher is better.\n");
  if (aa)
    std::printf("A/A calibration (--aa): the ae column runs the column's bar baseline again; its rows show "
                "what this machine can resolve. No bar is checked.\n");
  std::vector<row> all_rows;
  bool failed = false, error = false;
  std::map<std::string, bool> info_shown;
  for (const workload& w : work) {
    std::printf("\n== %s ==\n", w.title.c_str());
    if (w.k == kind::dns && (!dns_built() || ::access(dnsmasq_path, X_OK) != 0)) {  // note 5
      std::printf("skipped: %s\n", dns_built() ? "/usr/sbin/dnsmasq not found (Debian package dnsmasq-base)"
                                             : "ae-bench was built without ae::dns (net/ or c-ares missing)");
      std::fflush(stdout);
      continue;
    }
    std::printf("%-11s %-16s %-14s %11s %11s %7s %-17s %-16s %s\n", "column", "baseline", "metric", "raw", "ae",
                "ratio", "[min, max]", "bar", "result");
    std::fflush(stdout);
    for (const std::string& column : columns) {
      const int fds_needed = w.k == kind::io ? 2 * w.io.pairs + 64 : w.k == kind::c10k ? w.c10k.connections + 64 : 0;
      if (static_cast<rlim_t>(fds_needed) > fd_limit) {
        std::printf("%-11s skipped: needs %d descriptors, the limit is %lu\n", column.c_str(), fds_needed,
                    static_cast<unsigned long>(fd_limit));
        error = error || explicit_columns;
        continue;
      }
      column_outcome o = run_child(w, column, pairs, aa);
      if (!o.skipped.empty()) {
        std::printf("%-11s skipped: %s\n", column.c_str(), o.skipped.c_str());
        error = error || (explicit_columns && o.skipped.rfind("dnsmasq", 0) != 0);  // note 5
        continue;
      }
      if (!o.info.empty() && !info_shown[column]) {
        std::printf("%-11s # %s\n", column.c_str(), o.info.c_str());
        info_shown[column] = true;
      }
      for (row& r : o.rows) {
        std::string bars;
        for (const bar& b : r.bars) bars += (bars.empty() ? "" : "&") + b.text();
        char range[40];
        std::snprintf(range, sizeof range, "[%.2f, %.2f]", r.r_min, r.r_max);
        std::printf("%-11s %-16s %-14s %11s %11s %7.3f %-17s %-16s %s\n", column.c_str(), r.baseline.c_str(),
                    label(r.metric), num(r.raw_med).c_str(), num(r.ae_med).c_str(), r.r_med, range,
                    bars.empty() ? "-" : bars.c_str(), r.result.c_str());
        failed = failed || r.result == "FAIL";
        all_rows.push_back(r);
      }
      if (!o.error.empty()) {
        std::printf("%-11s ERROR: the run %s\n", column.c_str(), o.error.c_str());
        error = true;
      }
      std::fflush(stdout);
    }
  }
  if (!json.empty() && !write_json(json, all_rows, pairs, cpu, preset, aa)) {
    std::fprintf(stderr, "ae-bench: cannot write %s: %s\n", json.c_str(), std::strerror(errno));
    error = true;
  }
  int pass = 0, fail = 0;
  for (const row& r : all_rows) {
    pass += r.result == "PASS";
    fail += r.result == "FAIL";
  }
  std::printf("\n%d bars met, %d missed%s\n", pass, fail, error ? "; some runs failed or were skipped" : "");
  return error ? 2 : failed ? 1 : 0;
}

}  // namespace
}  // namespace ae::bench

int main(int argc, char** argv) {
  try {
    return ae::bench::main_impl(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ae-bench: %s\n", e.what());
    return 2;
  }
}
