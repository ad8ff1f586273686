// The three workloads, written once as templates over a "driver": the few operations in
// which the sides differ (start/stop a watcher, run one iteration). Every side's numbers
// come from the same harness, the same order of operations and the same windows.
//
// A driver D provides:
//   io:        D(); void reserve_io(int n); void io_start(int i, int fd, io_ctx*);
//              void io_stop(int i); void run_nowait();
//   timers:    D(); void now_update(); void reserve_timers(int n);
//              void timer_start(int i, int ms, timer_ctx*); void run_timers(timer_ctx*);
//   ping-pong: D(); void pingpong_start(pingpong_ctx*); void run_once();
// Watcher storage is allocated by reserve_*() inside the measured window (bench.hpp note 1).
#pragma once

#include "bench.hpp"

#include <memory>

namespace ae::bench {

template <class D>
io_result run_io(const io_config& c, const socket_pairs& sp) {
  io_result r;
  io_ctx ctx(sp);
  const int n = ctx.n;
  auto d = std::make_unique<D>();

  // Cold setup: nothing of these fds is known to the loop yet.
  const std::int64_t h0 = heap_bytes();
  std::int64_t t0 = wall_ns();
  d->reserve_io(n);
  for (int i = 0; i < n; ++i) d->io_start(i, sp.rd[i], &ctx);
  d->run_nowait();
  std::int64_t t1 = wall_ns();
  r.bytes = static_cast<double>(heap_bytes() - h0) / n;
  r.setup_ns = static_cast<double>(t1 - t0) / n;

  // Warm re-arm: destroy + create each watcher on the same fd; the iteration that follows
  // is inside the window, because a lazy loop pays for the change there.
  std::int64_t calls_ns = 0;
  auto rearm = [&] {
    for (int round = 0; round < c.rearm_rounds; ++round) {
      const std::int64_t c0 = wall_ns();
      for (int i = 0; i < n; ++i) {
        d->io_stop(i);
        d->io_start(i, sp.rd[i], &ctx);
      }
      calls_ns += wall_ns() - c0;
      d->run_nowait();
    }
  };
  const bool measure_rearm = io_measured_part == io_part::rearm;
  t0 = wall_ns();
  if (measure_rearm) measured_phase(rearm);
  else rearm();
  t1 = wall_ns();
  const double rearms = static_cast<double>(n) * c.rearm_rounds;
  r.rearm_ns = static_cast<double>(t1 - t0) / rearms;
  r.rearm_calls_ns = static_cast<double>(calls_ns) / rearms;
  r.rearm_iter_ns = r.rearm_ns - r.rearm_calls_ns;

  // The loop phase, as libevent's test/bench.c: non-blocking iterations until every byte
  // written (A + W) has been read.
  long events = 0;
  auto phase = [&] {
    for (int round = 0; round < c.loop_rounds; ++round) {
      ctx.start_phase(c.active, c.writes);
      do d->run_nowait();
      while (!ctx.phase_done() && !ctx.failures);
      events += ctx.count;
    }
  };
  t0 = wall_ns();
  if (measure_rearm) phase();
  else measured_phase(phase);
  t1 = wall_ns();
  if (ctx.failures) die("io workload: " + std::to_string(ctx.failures) + " failed reads or writes");
  r.events = events;
  r.loop_ns = static_cast<double>(t1 - t0) / static_cast<double>(events);

  for (int i = 0; i < n; ++i) d->io_stop(i);
  d.reset();
  return r;
}

template <class D>
timer_result run_timers(const timer_config& c, const std::vector<int>& timeouts) {
  timer_result r;
  timer_ctx ctx;
  ctx.total = c.count;
  auto d = std::make_unique<D>();
  d->now_update();

  auto create = [&] {
    d->reserve_timers(c.count);
    for (int i = 0; i < c.count; ++i) d->timer_start(i, timeouts[i], &ctx);
  };
  auto run = [&] { d->run_timers(&ctx); };
  const bool measure_create = timer_measured_part == timer_part::create;

  const std::int64_t h0 = heap_bytes();
  const std::int64_t t0 = wall_ns();
  if (measure_create) measured_phase(create);
  else create();
  const std::int64_t t1 = wall_ns();
  r.bytes = static_cast<double>(heap_bytes() - h0) / c.count;
  r.create_ns = static_cast<double>(t1 - t0) / c.count;

  const std::int64_t c0 = thread_cpu_ns();
  if (measure_create) run();
  else measured_phase(run);
  const std::int64_t c1 = thread_cpu_ns();
  if (ctx.fired != c.count)
    die("timer workload: " + std::to_string(ctx.fired) + " of " + std::to_string(c.count) + " timers fired");
  r.run_ns = static_cast<double>(c1 - c0) / c.count;
  d.reset();
  return r;
}

template <class D>
pingpong_result run_pingpong(const pingpong_config& c, pingpong_ctx& ctx) {
  pingpong_result r;
  auto d = std::make_unique<D>();
  d->pingpong_start(&ctx);
  d->run_nowait();  // registration, outside the window
  ctx.start(c.round_trips);
  auto phase = [&] {
    while (!ctx.done()) d->run_once();
  };
  const std::int64_t c0 = thread_cpu_ns();
  const std::int64_t t0 = wall_ns();
  measured_phase(phase);
  const std::int64_t t1 = wall_ns();
  const std::int64_t c1 = thread_cpu_ns();
  if (ctx.failures) die("ping-pong workload: a read or write failed");
  r.rt_per_s = static_cast<double>(ctx.round_trips) * 1e9 / static_cast<double>(t1 - t0);
  r.cpu_ns = static_cast<double>(c1 - c0) / static_cast<double>(ctx.round_trips);
  d.reset();
  return r;
}

}  // namespace ae::bench
