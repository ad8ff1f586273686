// The loop: dispatch from the backend's hooks into user callbacks, the timer heap, and the
// public ae::loop methods.
//
// Iteration rules that hold on every backend (docs/design.md has the long form):
// 1. Timers due at the cached now() run in deadline order; a timer started by a callback in
//    this pass runs in a later pass, even with a zero delay.
// 2. Interval timers are fixed-rate: next = previous deadline + interval, or now + interval
//    when the loop was late, so there is never a burst of catch-up calls.
// 3. postpone() callbacks run in the next iteration; the core arms the backend's timer at a
//    past deadline so that iteration does not block.
// 4. A user callback that throws stops the native loop; run()/run_once() rethrow it.
#include "loop_impl.hpp"
#include "poll/builtin.hpp"

#include <anyevent/error.hpp>
#include <anyevent/log.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <iterator>
#include <limits>
#include <mutex>
#include <new>
#include <system_error>

namespace ae::detail {

thread_local int callback_depth __attribute__((tls_model("initial-exec"))) = 0;

bool in_callback() noexcept { return callback_depth > 0; }

// ---- loop ids (loop_impl.hpp note 7) ----

loop_impl* loop_table[1 << 16];

namespace {
std::mutex loop_ids_mutex;
std::vector<std::uint16_t> free_loop_ids;  // given back, reused newest first
std::uint32_t loop_ids_used = 0;           // ids ever handed out
}  // namespace

loop_id::loop_id(loop_impl* l) {
  std::lock_guard lock(loop_ids_mutex);
  if (!free_loop_ids.empty()) {
    v_ = free_loop_ids.back();
    free_loop_ids.pop_back();
  } else if (loop_ids_used < std::size(loop_table)) {
    free_loop_ids.reserve(loop_ids_used + 1);  // so that ~loop_id cannot fail
    v_ = static_cast<std::uint16_t>(loop_ids_used++);
  } else {
    throw error(make_error_code(errc::too_many_loops),
                "ae::loop: 65,536 loops exist at once; destroy loops, and the watchers that outlived them, "
                "before making more");
  }
  loop_table[v_] = l;
}

loop_id::~loop_id() {
  std::lock_guard lock(loop_ids_mutex);
  loop_table[v_] = nullptr;
  free_loop_ids.push_back(v_);
}

loop_impl::loop_impl(const backend::ops* o, void* native, bool library_default)
    : ops(o), defer_shrink(o == builtin::epoll_ops() || o == builtin::posix_poll_ops()) {
  hooks = {this, &on_io, &on_timer, &on_idle, &on_wakeup};
  record_size = sizeof(fd_entry) + ((std::size_t{ops->io_size} + 7) & ~std::size_t{7});
  quick_stops = defer_shrink;
  char err[256] = "";
  be = ops->create({&hooks, native, library_default}, err, sizeof err);
  if (!be)
    throw error(make_error_code(errc::backend_failed),
                std::string("backend '") + ops->name + "' could not create a loop: " + err);
  register_loop(this);
}

std::shared_ptr<loop_impl> loop_impl::make(const backend::ops* o, void* native, bool library_default) {
  return std::shared_ptr<loop_impl>(new loop_impl(o, native, library_default), &release);
}

void child_stop(child_block*) noexcept;  // children.cpp

void loop_impl::release(loop_impl* l) noexcept {
  // 1. What other modules keep per loop, and queued work: destroying either may stop
  //    watchers, which must still find a whole loop.
  auto attached = std::move(l->attachments);
  while (!attached.empty()) attached.pop_back();  // newest first
  for (auto* q : {&l->postponed, &l->postponed_run, &l->posted, &l->posted_run}) {
    auto doomed = std::move(*q);
    doomed.clear();
  }
  unregister_loop(l);
  // 2. Children: pidfds closed, the core's own SIGCHLD watcher stopped.
  while (l->children.head) {
    auto* c = static_cast<child_block*>(l->children.head);
    child_stop(c);
    c->active = false;
  }
  if (l->sigchld) {
    ++l->alive;
    block_stop(std::exchange(l->sigchld, nullptr));
  }
  signal_release_loop(l);
  // 3. The backend sees nothing of ours any more, then goes.
  for (std::uint32_t i = 1; i < l->records; ++i) {
    fd_entry* e = l->record(i);
    if (e->mask && !e->always_ready) l->ops->io(l->be, l->slot(e), e->fd, e->mask, 0);
    e->mask = 0;
  }
  if (l->armed >= 0) l->ops->timer(l->be, -1);
  l->ops->idle(l->be, false);
  l->ops->destroy(l->be);
  l->be = nullptr;
  // 4. Watcher handles that outlive the loop hold blocks in its pool (note 6).
  l->dead = true;
  l->quick_stops = false;
  if (l->blocks == 0) delete l;
}

loop_impl::~loop_impl() {
  for (auto* chunk : fd_table)
    if (chunk != empty_chunk) delete[] chunk;
}

const std::uint32_t loop_impl::empty_chunk[1 << chunk_bits] = {};

fd_entry& loop_impl::entry_slow(int fd) {
  const auto c = static_cast<std::size_t>(fd) >> chunk_bits;
  if (c >= fd_table.size()) fd_table.resize(c + 1, const_cast<std::uint32_t*>(empty_chunk));  // never written
  if (fd_table[c] == empty_chunk) fd_table[c] = new std::uint32_t[1 << chunk_bits]();
  std::uint32_t& r = fd_table[c][fd & chunk_mask];
  if (!r) {
    new_entry(fd);
    r = records - 1;
  }
  return *record(r);
}

/// A zeroed record (entry + backend slot). Records only come and never go: a slot may keep
/// backend state for its fd number after the last watcher went (backend.hpp).
fd_entry* loop_impl::new_entry(int fd) {
  if (fd_arena.empty() || (records & chunk_mask) == 0) {
    fd_arena.reserve(fd_arena.size() + 1);
    fd_arena.emplace_back(new std::byte[record_size << chunk_bits]());
  }
  auto* e = new (record(records)) fd_entry;
  ++records;
  e->fd = fd;
  return e;
}

namespace {

/// One queued shrink, applied (loop_impl note 8).
[[gnu::always_inline]] inline void shrink_now(loop_impl& l, fd_entry& e) noexcept {
  e.shrink_queued = false;
  try {
    l.update_fd(e);
  } catch (const std::exception& ex) {
    log::write(log::level::debug, ex.what());
  }
}

}  // namespace

void loop_impl::flush_shrink(fd_entry& e) noexcept { shrink_now(*this, e); }

void loop_impl::flush_shrinks() noexcept {
  for (fd_entry* e : shrinks)
    if (e->shrink_queued == 1) shrink_now(*this, *e);
    else e->shrink_queued = 0;  // moot, or flushed early (fd_closing) and maybe queued again further on
  shrinks.clear();
}

void loop_impl::update_fd_rest(fd_entry& e, unsigned want, int err) {
  const int fd = e.fd;
  if (e.always_ready) {
    if (!want) {
      e.always_ready = false;
      e.mask = 0;
      std::erase(always_ready, fd);
      rearm();
    } else {
      e.mask = static_cast<std::uint8_t>(want);
    }
    return;
  }
  if (err == EPERM) {
    // POSIX poll reports such fds (regular files) as always ready; so do we, everywhere.
    if (e.mask) ops->io(be, slot(&e), fd, e.mask, 0);
    e.always_ready = true;
    e.mask = static_cast<std::uint8_t>(want);
    always_ready.push_back(fd);
    rearm();
    return;
  }
  throw std::system_error(err, std::generic_category(), "ae::io: cannot watch fd " + std::to_string(fd));
}

// ---- timer heap (4-ary: shallower than binary, and 4 children share a cache line; the
// push path is inline in loop_impl.hpp) ----

void loop_impl::heap_sift_down(std::uint32_t i) {
  const std::uint32_t n = static_cast<std::uint32_t>(heap.size());
  heap_entry x = heap[i];
  for (;;) {
    const std::uint32_t first = 4 * i + 1;
    if (first >= n) break;
    std::uint32_t best = first;
    const std::uint32_t last = std::min(first + 4, n);
    for (std::uint32_t c = first + 1; c < last; ++c)
      if (heap[c].deadline < heap[best].deadline) best = c;
    if (x.deadline <= heap[best].deadline) break;
    heap[i] = heap[best];
    heap[i].t->heap_index = i;
    i = best;
  }
  heap[i] = x;
  x.t->heap_index = i;
}

void loop_impl::heap_remove(timer_block* t) {
  const std::uint32_t i = t->heap_index;
  t->heap_index = npos;
  const heap_entry last = heap.back();
  heap.pop_back();
  if (i == heap.size()) return;
  heap[i] = last;
  last.t->heap_index = i;
  if (i > 0 && heap[(i - 1) / 4].deadline > last.deadline)
    heap_sift_up(i);
  else
    heap_sift_down(i);
}

/// Give the backend the earliest thing the core must wake for: deadline 0 (long past) while
/// postponed callbacks or always-ready fds wait.
void loop_impl::rearm() noexcept {
  if (in_timer_dispatch) return;  // on_timer re-arms once at the end
  std::int64_t want = heap.empty() ? -1 : heap.front().deadline;
  if (!postponed.empty() || !always_ready.empty()) want = 0;
  if (want == armed) return;
  armed = want;
  ops->timer(be, want);
}

// ---- hooks ----

// flatten: the callback's invocation is inlined here (its exception parking costs nothing
// until a callback throws); a call per event to a shared invoke() costs about 10 instructions.
[[gnu::hot, gnu::flatten]] void loop_impl::on_io(void* core, void* slot, unsigned revents) {
  static_cast<loop_impl*>(core)->io_ready(*entry_of(slot), revents);
}

inline void loop_impl::io_ready(fd_entry& e, unsigned revents) noexcept {
  io_block* w = e.head;
  if (w && !w->next) [[likely]] {
    // One watcher: whatever its callback starts or stops, nobody else is due in this call.
    if (const unsigned bits = w->events() & revents) call(w, static_cast<poll>(bits));
    return;
  }
  dispatch_io(e, revents);
}

/// Several watchers on one fd, each called with its own bits (note 4 of loop_impl.hpp).
[[gnu::hot, gnu::noinline]] void loop_impl::dispatch_io(fd_entry& e, unsigned revents) noexcept {
  io_block* const saved = io_cursor;
  for (io_block* w = e.head; w;) {
    io_cursor = w->next;
    if (const unsigned bits = w->events() & revents) call(w, static_cast<poll>(bits));
    w = io_cursor;
  }
  io_cursor = saved;
}

[[gnu::hot]] void loop_impl::on_timer(void* core) {
  auto* l = static_cast<loop_impl*>(core);
  l->armed = -1;
  l->in_timer_dispatch = true;
  const std::int64_t now = l->now();

  // Collect first, call second: a timer started (or a callback postponed) by a callback
  // belongs to a later pass.
  l->postponed_run.swap(l->postponed);
  auto& due = l->due;
  due.clear();
  while (!l->heap.empty() && l->heap.front().deadline <= now) {
    timer_block* t = l->heap.front().t;
    if (t->repeats()) {
      // Saturating: an interval of "forever" (checked_ns saturates huge durations) must not
      // wrap to a deadline in the past and spin this loop.
      const std::int64_t interval = t->interval();
      auto later = [interval](std::int64_t from) {
        return from > std::numeric_limits<std::int64_t>::max() - interval ? std::numeric_limits<std::int64_t>::max()
                                                                          : from + interval;
      };
      std::int64_t next = later(l->heap.front().deadline);
      if (next <= now) next = later(now);
      l->heap.front().deadline = next;
      l->heap_sift_down(0);
    } else {
      l->heap_remove(t);
    }
    // A timer stopped while queued becomes a zombie that this pass frees (block_stop).
    t->state = queued;
    l->due.push_back(t);
  }
  for (std::size_t i = 0; i < due.size(); ++i) {
    timer_block* t = due[i];
    if (t->state == zombie) {  // stopped by an earlier callback of this pass
      delete_block(t);
      continue;
    }
    if (!t->repeats()) {
      t->active = false;
      --l->alive;
    }
    t->state = running;
    l->invoke(*t);
    if (t->state == zombie) delete_block(t);
    else t->state = 0;
  }
  due.clear();

  if (!l->postponed_run.empty()) {
    l->alive -= static_cast<long>(l->postponed_run.size());
    for (auto& f : l->postponed_run) l->invoke(f);
    l->postponed_run.clear();
  }
  // Index-based: callbacks may add or remove always-ready fds.
  for (std::size_t i = 0; i < l->always_ready.size(); ++i) {
    fd_entry& e = *l->find(l->always_ready[i]);
    l->io_ready(e, e.mask);
  }
  l->in_timer_dispatch = false;
  l->rearm();
}

void loop_impl::on_idle(void* core) {
  auto* l = static_cast<loop_impl*>(core);
  l->idles.dispatch([&](list_block* b) { l->call(static_cast<idle_block*>(b)); });
}

void loop_impl::on_wakeup(void* core) {
  auto* l = static_cast<loop_impl*>(core);
  if (l->post_pending.exchange(false)) {
    {
      std::lock_guard lock(l->post_mutex);
      l->posted_run.swap(l->posted);
    }
    for (auto& f : l->posted_run) l->invoke(f);
    l->posted_run.clear();
  }
  if (l->async_pending.exchange(false)) {
    l->asyncs.dispatch([&](list_block* b) {
      auto* a = static_cast<async_block*>(b);
      if (a->pending.exchange(false)) l->call(a);
    });
  }
  l->dispatch_signals();
}

[[gnu::hot]] void loop_impl::run_iteration(bool nowait) {
  if (callback_depth > 0) throw recursive_wait();
  if (!shrinks.empty()) flush_shrinks();
  ops->run_once(be, nowait);
  if (pending_exception) std::rethrow_exception(std::exchange(pending_exception, nullptr));
}

void* loop_attachment(loop_impl* l, const void* key, unique_function<std::shared_ptr<void>()>&& make) {
  for (auto& [k, object] : l->attachments)
    if (k == key) return object.get();
  auto object = make();
  l->attachments.emplace_back(key, object);
  return object.get();
}

// ---- post / postpone ----

void loop_post(loop_impl* l, unique_function<void()>&& f) {
  {
    std::lock_guard lock(l->post_mutex);
    l->posted.push_back(std::move(f));
  }
  // `alive` is only touched on the loop thread; a posted callback keeps the loop alive from
  // the moment the loop sees it (on_wakeup), which is what matters for run().
  if (!l->post_pending.exchange(true)) l->ops->wakeup(l->be);
}

void loop_postpone(loop_impl* l, unique_function<void()>&& f) {
  l->postponed.push_back(std::move(f));
  ++l->alive;
  l->rearm();
}

void throw_invalid_duration(const char* who) {
  throw error(make_error_code(errc::invalid_duration),
              std::string(who) + ": duration must be finite and not negative");
}

}  // namespace ae::detail

namespace ae {

using detail::loop_impl;

std::string_view loop::backend() const { return impl_->ops->name; }

[[gnu::hot]] void loop::run() {
  const auto keep = impl_;  // a callback may drop the last other handle of this loop
  auto* l = keep.get();
  l->stop_requested = false;
  while (!l->stop_requested && (l->alive > 0 || l->post_pending.load())) l->run_iteration(false);
  l->stop_requested = false;
}

[[gnu::hot]] bool loop::run_once() {
  const auto keep = impl_;
  keep->run_iteration(false);
  return keep->alive > 0;
}

[[gnu::hot]] bool loop::run_nowait() {
  const auto keep = impl_;
  keep->run_iteration(true);
  return keep->alive > 0;
}

void loop::stop() {
  impl_->stop_requested = true;
  impl_->ops->stop(impl_->be);
}

time_point loop::now() const { return time_point(std::chrono::nanoseconds(impl_->now())); }

void loop::now_update() { impl_->ops->now_update(impl_->be); }

void loop::fork_child() {
  impl_->flush_shrinks();  // the child registers what is watched now
  impl_->ops->fork_child(impl_->be);
}

time_point now() { return default_loop().now(); }
void now_update() { default_loop().now_update(); }

}  // namespace ae
