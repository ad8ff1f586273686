// Starting and stopping io, timer, idle and async watchers (signal and child watchers live
// in signals.cpp and children.cpp). One allocation per start: the block.
#include "loop_impl.hpp"

#include <anyevent/async.hpp>
#include <anyevent/idle.hpp>
#include <anyevent/io.hpp>
#include <anyevent/log.hpp>
#include <anyevent/timer.hpp>

#include <cerrno>
#include <limits>
#include <system_error>

namespace ae::detail {

void child_stop(child_block*) noexcept;  // children.cpp
void signal_stop(signal_block*) noexcept;  // signals.cpp

block* io_start(loop_impl* l, int fd, poll events, unique_function<void(poll)>&& cb) {
  if (fd < 0) throw std::system_error(EBADF, std::generic_category(), "ae::io: invalid fd " + std::to_string(fd));
  const unsigned mask = static_cast<unsigned>(events) & 3u;
  if (!mask) throw std::invalid_argument("ae::io: events must include poll::read or poll::write");
  auto* b = new io_block;
  b->loop = l;
  b->k = kind::io;
  b->fd = fd;
  b->mask = static_cast<std::uint8_t>(mask);
  b->cb = std::move(cb);
  auto& e = l->entry(fd);
  e.watchers.push_front(b);
  try {
    l->update_fd(fd, e);
  } catch (...) {
    e.watchers.erase(b);
    delete b;
    throw;
  }
  ++l->alive;
  return b;
}

int io_fd(const block* b) noexcept { return static_cast<const io_block*>(b)->fd; }

block* timer_start(loop_impl* l, std::int64_t after, std::int64_t interval, unique_function<void()>&& cb) {
  auto* t = new timer_block;
  t->loop = l;
  t->k = kind::timer;
  const std::int64_t now = l->now();
  t->interval = interval;
  t->due_index = npos;
  t->cb = std::move(cb);
  l->heap_push(t, after > std::numeric_limits<std::int64_t>::max() - now ? std::numeric_limits<std::int64_t>::max()
                                                                          : now + after);
  ++l->alive;
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
  return b;
}

block* async_start(loop_impl* l, unique_function<void()>&& cb) {
  auto* b = new async_block;
  b->loop = l;
  b->k = kind::async;
  b->cb = std::move(cb);
  l->asyncs.push_front(b);
  ++l->alive;
  return b;
}

void async_send(block* b) noexcept {
  auto* a = static_cast<async_block*>(b);
  if (a->pending.exchange(true)) return;  // already on its way: sends merge
  loop_impl* l = a->loop;
  l->async_pending.store(true);
  l->ops->wakeup(l->be);
}

bool block_active(const block* b) noexcept { return b->active; }

void block_stop(block* b) noexcept {
  loop_impl* l = b->loop;
  switch (b->k) {
    case kind::io: {
      auto* w = static_cast<io_block*>(b);
      auto& e = *l->find(w->fd);
      e.watchers.erase(w);
      --l->alive;
      try {
        l->update_fd(w->fd, e);
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
  switch (b->k) {
    case kind::io: delete static_cast<io_block*>(b); return;
    case kind::timer: delete static_cast<timer_block*>(b); return;
    case kind::idle: delete static_cast<idle_block*>(b); return;
    case kind::async: delete static_cast<async_block*>(b); return;
    case kind::signal: delete static_cast<signal_block*>(b); return;
    case kind::child: delete static_cast<child_block*>(b); return;
  }
}

}  // namespace ae::detail
