// Starting and stopping io, timer, idle and async watchers (signal and child watchers live
// in signals.cpp and children.cpp), and the pool their io and timer blocks come from. At most
// one allocation per start: the block, which for io and timers is a pool slot and costs no
// allocation once the pool has grown to the loop's high water mark.
#include "loop_impl.hpp"

#include <anyevent/async.hpp>
#include <anyevent/idle.hpp>
#include <anyevent/io.hpp>
#include <anyevent/log.hpp>
#include <anyevent/timer.hpp>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <new>
#include <stdexcept>
#include <system_error>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

namespace ae::detail {

// ---- block_pool ----

#if defined(__SANITIZE_ADDRESS__)
void pool_poison(void* p, std::size_t bytes) noexcept { ASAN_POISON_MEMORY_REGION(p, bytes); }
void pool_unpoison(void* p, std::size_t bytes) noexcept { ASAN_UNPOISON_MEMORY_REGION(p, bytes); }
#endif

namespace {

/// Destroys an io or timer block and returns its slot. The callable is moved out and
/// destroyed last: its captures may hold the last reference to the loop, and with it the
/// pool. Only its ops know its type.
template <class B>
void pooled_delete(B* b) noexcept {
  const auto* ops = b->ops;
  loop_impl* l = b->loop();
  const unsigned slot_class = b->slot_class();
  if (!ops->move_destroy) {  // trivially destructible: nothing to run, nothing to save
    l->slot_put(b, slot_class);
    return;
  }
  alignas(void*) std::byte saved[std::max(io_inline_bytes, timer_inline_bytes[0])];
  ops->move_destroy(b->callable(), saved);
  l->slot_put(b, slot_class);
  ops->move_destroy(saved, nullptr);
}

}  // namespace

void child_stop(child_block*) noexcept;  // children.cpp
void signal_stop(signal_block*) noexcept;  // signals.cpp

namespace {

[[noreturn, gnu::noinline, gnu::cold]] void throw_bad_io(int fd) {
  if (fd < 0) throw std::system_error(EBADF, std::generic_category(), "ae::io: invalid fd " + std::to_string(fd));
  throw std::invalid_argument("ae::io: events must include poll::read or poll::write");
}

/// Takes a started io block off its fd and shrinks the fd's registration to the watchers
/// left, now or before the next wait (loop_impl note 8); the block itself is untouched.
[[gnu::always_inline]] inline void io_detach(loop_impl* l, io_block* w) noexcept {
  fd_entry& e = *w->entry;
  l->io_unlink(e, w);
  try {
    l->io_shrink(e);
  } catch (const std::exception& ex) {
    // Shrinking a registration can only fail if the fd was closed under us.
    log::write(log::level::debug, ex.what());
  }
}

/// io_start() in general: a new fd, new bits for the backend, or a pool without a free slot.
[[gnu::noinline]] block_room io_start_slow(loop_impl* l, int fd, unsigned mask, const callable_ops<void, poll>* ops,
                                           std::uint8_t slot_class) {
  if (fd < 0 || !mask) [[unlikely]] throw_bad_io(fd);
  auto& e = l->entry(fd);  // first: it may throw, and then no slot is taken
  auto* b = new (l->slot_get(slot_class)) io_block(l, &e, mask, ops, slot_class);
  loop_impl::io_link(e, b);
  // A start only adds bits: the new union is known without walking the fd's watchers.
  if (const unsigned want = e.mask | mask; want != e.mask) {
    try {
      l->set_fd_mask(e, want);
    } catch (...) {
      l->io_unlink(e, b);
      l->slot_put(b, slot_class);
      throw;
    }
  }
  ++l->alive;
  ++l->blocks;
  return {b, b->callable()};
}

/// io_stop() in general: a foreign backend, a dead loop, a stop from inside the callback, a
/// callable with a destructor, an always-ready fd, a full shrink queue.
[[gnu::noinline]] void io_stop_slow(loop_impl* l, io_block* w) noexcept {
  // A dead loop, or a stop from inside its own callback: block_stop knows those.
  if (l->dead || w->state != 0) return block_stop(w);
  io_detach(l, w);
  --l->alive;
  pooled_delete(w);
  l->block_gone();
}

}  // namespace

// The two halves of a re-arm (DESIGN §7: destroy + create on the same fd). Their common
// case — an fd already registered for these bits, a free pool slot, a stop whose shrink is
// deferred (loop_impl note 8) — calls nothing, so it saves no registers; everything else
// goes to the slow halves above.

block_room io_start(loop_impl* l, int fd, poll events, const callable_ops<void, poll>* ops, std::uint8_t slot_class) {
  const unsigned mask = static_cast<unsigned>(events) & 3u;
  // The record number, not find(), so that no pointer is tested twice; a negative fd has
  // none, and the slow half checks it and the mask.
  const std::uint32_t r = l->number(fd);
  if (!r || !mask) [[unlikely]]
    return io_start_slow(l, fd, mask, ops, slot_class);
  fd_entry* e = l->record(r);
  void* room;
  if ((e->mask | mask) != e->mask || !(room = l->pools[slot_class].try_get())) [[unlikely]]
    return io_start_slow(l, fd, mask, ops, slot_class);
  if (!e->head && e->shrink_queued == 1 && mask == e->mask) e->shrink_queued = 2;  // a re-arm (note 8)
  auto* b = new (room) io_block(l, e, mask, ops, slot_class);
  loop_impl::io_link(*e, b);
  ++l->alive;
  ++l->blocks;
  return {b, b->callable()};
}

void io_stop(block* b) noexcept {
  auto* w = static_cast<io_block*>(b);
  loop_impl* l = w->loop();
  fd_entry& e = *w->entry;
  if (!l->quick_stops || w->state != 0 || w->ops->move_destroy || e.always_ready ||
      (!e.shrink_queued && !l->shrinks.has_room())) [[unlikely]]
    return io_stop_slow(l, w);
  l->io_unlink(e, w);
  if (!e.shrink_queued) l->shrinks.append_unchecked(&e);
  e.shrink_queued = 1;
  --l->alive;
  l->slot_put(w, w->slot_class());
  --l->blocks;
}

void io_abort(block* b) noexcept {
  auto* w = static_cast<io_block*>(b);
  loop_impl* l = w->loop();
  io_detach(l, w);
  --l->alive;
  --l->blocks;
  l->slot_put(w, w->slot_class());
}

int io_fd(const block* b) noexcept { return static_cast<const io_block*>(b)->entry->fd; }

block_room timer_start(loop_impl* l, std::int64_t after, std::int64_t interval, const callable_ops<void>* ops,
                       std::uint8_t slot_class) {
  // Room in the heap first, then the slot: either may throw, and then nothing is to undo.
  l->heap.reserve_one();
  const bool repeats = interval != 0;
  auto* t = new (l->slot_get(slot_class))
      timer_block(l, ops, slot_class | (repeats ? timer_block::timer_repeats : 0u));
  void* callable = t + 1;
  if (repeats) {
    t->interval() = interval;
    callable = &t->interval() + 1;
  }
  const std::int64_t now = l->now();
  l->heap_push(t, after > std::numeric_limits<std::int64_t>::max() - now ? std::numeric_limits<std::int64_t>::max()
                                                                          : now + after);
  ++l->alive;
  ++l->blocks;
  if (t->heap_index == 0) l->rearm();
  return {t, callable};
}

void timer_abort(block* b) noexcept {
  auto* t = static_cast<timer_block*>(b);
  loop_impl* l = t->loop();
  const bool was_first = t->heap_index == 0;
  l->heap_remove(t);
  if (was_first) l->rearm();
  --l->alive;
  --l->blocks;
  l->slot_put(t, t->slot_class());
}

block* idle_start(loop_impl* l, unique_function<void()>&& cb) {
  auto* b = new idle_block(l, kind::idle);
  b->cb = std::move(cb);
  if (l->idles.empty()) l->ops->idle(l->be, true);
  l->idles.push_front(b);
  ++l->alive;
  ++l->blocks;
  return b;
}

block* async_start(loop_impl* l, unique_function<void()>&& cb) {
  auto* b = new async_block(l, kind::async);
  b->cb = std::move(cb);
  l->asyncs.push_front(b);
  ++l->alive;
  ++l->blocks;
  return b;
}

void async_send(block* b) noexcept {
  auto* a = static_cast<async_block*>(b);
  loop_impl* l = a->loop();
  if (l->dead) return;  // the loop is gone (loop_impl note 6): nothing to wake
  if (a->pending.exchange(true)) return;  // already on its way: sends merge
  l->async_pending.store(true);
  l->ops->wakeup(l->be);
}

bool block_active(const block* b) noexcept { return b->active && !b->loop()->dead; }

void block_stop(block* b) noexcept {
  loop_impl* l = b->loop();
  if (l->dead) {  // torn down without it (loop_impl note 6): only the memory is left
    b->active = false;
    delete_block(b);
    return;
  }
  switch (b->what()) {
    case kind::io:
      io_detach(l, static_cast<io_block*>(b));
      --l->alive;
      break;
    case kind::timer: {
      auto* t = static_cast<timer_block*>(b);
      if (t->heap_index != npos) {
        const bool was_first = t->heap_index == 0;
        l->heap_remove(t);
        if (was_first) l->rearm();
      }
      if (t->active) --l->alive;
      break;
    }
    case kind::idle: {
      auto* i = static_cast<idle_block*>(b);
      l->idles.erase(i);
      if (l->idles.empty()) l->ops->idle(l->be, false);
      --l->alive;
      break;
    }
    case kind::async: {
      auto* a = static_cast<async_block*>(b);
      l->asyncs.erase(a);
      --l->alive;
      break;
    }
    case kind::signal:
      signal_stop(static_cast<signal_block*>(b));
      break;
    case kind::child:
      child_stop(static_cast<child_block*>(b));
      break;
  }
  b->active = false;
  if (b->state == running || b->state == queued) b->state = zombie;  // its holder frees it
  else delete_block(b);
}

void delete_block(block* b) noexcept {
  loop_impl* l = b->loop();  // counted after the callable is gone: it may release the loop
  switch (b->what()) {
    case kind::io: pooled_delete(static_cast<io_block*>(b)); break;
    case kind::timer: pooled_delete(static_cast<timer_block*>(b)); break;
    case kind::idle: delete static_cast<idle_block*>(b); break;
    case kind::async: delete static_cast<async_block*>(b); break;
    case kind::signal: delete static_cast<signal_block*>(b); break;
    case kind::child: delete static_cast<child_block*>(b); break;
  }
  l->block_gone();
}

}  // namespace ae::detail
