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

#include <cerrno>
#include <limits>
#include <new>
#include <system_error>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#endif

namespace ae::detail {

// ---- block_pool ----

#if defined(__SANITIZE_ADDRESS__)
void block_pool::poison(slot* s, std::size_t n) noexcept { ASAN_POISON_MEMORY_REGION(s, n * slot_size); }
void block_pool::unpoison(slot* s, std::size_t n) noexcept { ASAN_UNPOISON_MEMORY_REGION(s, n * slot_size); }
#endif

block_pool::slot* block_pool::grow() {
  const std::size_t n = chunk_slots_;
  auto* c = static_cast<slot*>(::operator new(n * slot_size, std::align_val_t{slot_size}));
  c->next = chunks_;
  chunks_ = c;
  if (chunk_slots_ < max_chunk_slots) chunk_slots_ *= 2;
  // Slot 0 links the chunks, slot 1 is handed out now, the rest is carved on demand.
  next_ = c + 2;
  end_ = c + n;
  poison(next_, n - 2);
  return c + 1;
}

block_pool::~block_pool() {
  // Blocks still in use belong to handles that must not be used after their loop is gone
  // (stopping one reaches the loop anyway), so no slot is waited for.
  for (slot* c = chunks_; c;) {
    slot* prev = c->next;
    ::operator delete(c, std::align_val_t{slot_size});
    c = prev;
  }
}

namespace {

/// Destroys a pooled block and returns its slot. The callable is moved out and destroyed
/// last: its captures may hold the last reference to the loop, and with it the pool.
template <class B>
void pool_delete(B* b) noexcept {
  loop_impl* l = b->loop;
  auto cb = std::move(b->cb);
  b->~B();
  l->pool.put(b);
}

}  // namespace

void child_stop(child_block*) noexcept;  // children.cpp
void signal_stop(signal_block*) noexcept;  // signals.cpp

block* io_start(loop_impl* l, int fd, poll events, unique_function<void(poll)>&& cb) {
  if (fd < 0) throw std::system_error(EBADF, std::generic_category(), "ae::io: invalid fd " + std::to_string(fd));
  const unsigned mask = static_cast<unsigned>(events) & 3u;
  if (!mask) throw std::invalid_argument("ae::io: events must include poll::read or poll::write");
  auto& e = l->entry(fd);  // first: it may throw, and then no slot is taken
  auto* b = new (l->pool.get()) io_block;
  b->loop = l;
  b->k = kind::io;
  b->fd = fd;
  b->mask = static_cast<std::uint8_t>(mask);
  b->cb = std::move(cb);
  l->io_link(e, b);
  try {
    l->update_fd(e);
  } catch (...) {
    l->io_unlink(e, b);
    pool_delete(b);
    throw;
  }
  ++l->alive;
  ++l->blocks;
  return b;
}

int io_fd(const block* b) noexcept { return static_cast<const io_block*>(b)->fd; }

block* timer_start(loop_impl* l, std::int64_t after, std::int64_t interval, unique_function<void()>&& cb) {
  auto* t = new (l->pool.get()) timer_block{{l, kind::timer}, npos, interval, npos, std::move(cb)};
  const std::int64_t now = l->now();
  try {
    l->heap_push(t, after > std::numeric_limits<std::int64_t>::max() - now ? std::numeric_limits<std::int64_t>::max()
                                                                            : now + after);
  } catch (...) {
    pool_delete(t);
    throw;
  }
  ++l->alive;
  ++l->blocks;
  if (t->heap_index == 0) l->rearm();
  return t;
}

block* idle_start(loop_impl* l, unique_function<void()>&& cb) {
  auto* b = new idle_block;
  b->loop = l;
  b->k = kind::idle;
  b->cb = std::move(cb);
  if (l->idles.empty()) l->ops->idle(l->be, true);
  l->idles.push_front(b);
  ++l->alive;
  ++l->blocks;
  return b;
}

block* async_start(loop_impl* l, unique_function<void()>&& cb) {
  auto* b = new async_block;
  b->loop = l;
  b->k = kind::async;
  b->cb = std::move(cb);
  l->asyncs.push_front(b);
  ++l->alive;
  ++l->blocks;
  return b;
}

void async_send(block* b) noexcept {
  auto* a = static_cast<async_block*>(b);
  loop_impl* l = a->loop;
  if (l->dead) return;  // the loop is gone (loop_impl note 6): nothing to wake
  if (a->pending.exchange(true)) return;  // already on its way: sends merge
  l->async_pending.store(true);
  l->ops->wakeup(l->be);
}

bool block_active(const block* b) noexcept { return b->active && !b->loop->dead; }

void block_stop(block* b) noexcept {
  loop_impl* l = b->loop;
  if (l->dead) {  // torn down without it (loop_impl note 6): only the memory is left
    b->active = false;
    delete_block(b);
    return;
  }
  switch (b->k) {
    case kind::io: {
      auto* w = static_cast<io_block*>(b);
      auto& e = *l->find(w->fd);
      l->io_unlink(e, w);
      --l->alive;
      try {
        l->update_fd(e);
      } catch (const std::exception& ex) {
        // Shrinking a registration can only fail if the fd was closed under us.
        log::write(log::level::debug, ex.what());
      }
      break;
    }
    case kind::timer: {
      auto* t = static_cast<timer_block*>(b);
      if (t->heap_index != npos) {
        const bool was_first = t->heap_index == 0;
        l->heap_remove(t);
        if (was_first) l->rearm();
      }
      if (t->due_index != npos) l->due[t->due_index] = nullptr;
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
  if (b->state == running) b->state = zombie;
  else delete_block(b);
}

void delete_block(block* b) noexcept {
  loop_impl* l = b->loop;  // counted after the callable is gone: it may release the loop
  switch (b->k) {
    case kind::io: pool_delete(static_cast<io_block*>(b)); break;
    case kind::timer: pool_delete(static_cast<timer_block*>(b)); break;
    case kind::idle: delete static_cast<idle_block*>(b); break;
    case kind::async: delete static_cast<async_block*>(b); break;
    case kind::signal: delete static_cast<signal_block*>(b); break;
    case kind::child: delete static_cast<child_block*>(b); break;
  }
  l->block_gone();
}

}  // namespace ae::detail
