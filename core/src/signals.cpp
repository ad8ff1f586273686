// Signals, emulated once in the core for every backend.
//
// 1. The handler does only async-signal-safe work: it sets the signal's bit in each
//    interested loop's pending set and calls that loop's backend wakeup (an eventfd write,
//    ev_async_send or uv_async_send: all documented async-signal-safe). The callbacks run
//    later, in loop context, from the wakeup hook.
// 2. A bit stays set until the loop reads it, so a signal arriving between two iterations is
//    not lost; arrivals before the loop looks merge, as POSIX merges them.
// 3. The handler reads a fixed table of loop slots, never a container that another thread
//    might be resizing. A slot is claimed by a loop with signal watchers and cleared before
//    the loop goes away.
// 4. The first watcher of a signal in the process installs the handler; the last one restores
//    the disposition that was there before (a guest leaves no trace).
#include "loop_impl.hpp"

#include <anyevent/error.hpp>

#include <cerrno>
#include <csignal>
#include <mutex>
#include <string>

namespace ae::detail {

namespace {

constexpr int max_signal = 64;  // Linux: 1..64 (NSIG is 65)
constexpr int max_loops = 64;

struct loop_slot {
  std::atomic<loop_impl*> loop{nullptr};
  std::atomic<std::uint64_t> pending{0};  // bit (signum - 1)
};

loop_slot slots[max_loops];

struct process_state {
  std::mutex m;
  int watchers[max_signal + 1] = {};  // loops watching each signal, over the process
  struct sigaction previous[max_signal + 1];
};

process_state& state() {
  static process_state s;
  return s;
}

extern "C" void on_signal(int signum) {
  const int saved_errno = errno;
  const std::uint64_t bit = std::uint64_t{1} << (signum - 1);
  for (auto& s : slots) {
    loop_impl* l = s.loop.load(std::memory_order_acquire);
    if (!l) continue;
    s.pending.fetch_or(bit, std::memory_order_release);
    l->ops->wakeup(l->be);
  }
  errno = saved_errno;
}

}  // namespace

void signal_watch(loop_impl* l, int signum) {
  auto& st = state();
  std::lock_guard lock(st.m);
  if (l->signal_slot < 0) {
    for (int i = 0; i < max_loops; ++i) {
      loop_impl* expected = nullptr;
      if (slots[i].loop.compare_exchange_strong(expected, l)) {
        slots[i].pending.store(0);
        l->signal_slot = i;
        break;
      }
    }
    if (l->signal_slot < 0)
      throw error(make_error_code(errc::invalid_signal),
                  "ae::signal: more than 64 loops watch signals at once");
  }
  if (st.watchers[signum]++ == 0) {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigfillset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(signum, &sa, &st.previous[signum]);
  }
}

void signal_unwatch(loop_impl*, int signum) {
  auto& st = state();
  std::lock_guard lock(st.m);
  if (--st.watchers[signum] == 0) sigaction(signum, &st.previous[signum], nullptr);
}

void signal_release_loop(loop_impl* l) noexcept {
  if (l->signal_slot < 0) return;
  for (int s = 1; s <= max_signal; ++s)
    if (!l->signals[s].empty()) signal_unwatch(l, s);
  slots[l->signal_slot].loop.store(nullptr, std::memory_order_release);
  l->signal_slot = -1;
}

void loop_impl::dispatch_signals() {
  if (signal_slot < 0) return;
  std::uint64_t bits = slots[signal_slot].pending.exchange(0, std::memory_order_acquire);
  while (bits) {
    const int signum = __builtin_ctzll(bits) + 1;
    bits &= bits - 1;
    signals[signum].dispatch([&](list_block* b) { call(static_cast<signal_block*>(b)); });
  }
}

block* signal_start(loop_impl* l, int signum, unique_function<void()>&& cb) {
  if (signum < 1 || signum > max_signal || signum == SIGKILL || signum == SIGSTOP)
    throw error(make_error_code(errc::invalid_signal),
                "ae::signal: " + std::to_string(signum) + " is not a signal that can be caught (1.." +
                    std::to_string(max_signal) + ", not SIGKILL or SIGSTOP)");
  auto* b = new signal_block(l, kind::signal);
  b->signum = signum;
  b->cb = std::move(cb);
  if (l->signals[signum].empty()) {
    try {
      signal_watch(l, signum);
    } catch (...) {
      delete b;
      throw;
    }
  }
  l->signals[signum].push_front(b);
  ++l->alive;
  ++l->blocks;
  return b;
}

void signal_stop(signal_block* b) noexcept {
  loop_impl* l = b->loop();
  l->signals[b->signum].erase(b);
  if (l->signals[b->signum].empty()) signal_unwatch(l, b->signum);
  --l->alive;
}

}  // namespace ae::detail
