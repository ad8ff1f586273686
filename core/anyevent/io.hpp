// ae::io — readiness of a file descriptor.
//
//   ae::io w(sock, ae::poll::read, [&] { read_some(sock); });
//
// Any number of io watchers may watch one fd and direction; each is called. An fd that
// cannot be polled (a regular file) is always ready, as POSIX poll says. The callback may
// take no argument or the ae::poll bits that are ready.
#pragma once

#include <anyevent/watcher.hpp>

namespace ae {

enum class poll : unsigned { read = 1, write = 2, both = 3 };
constexpr poll operator|(poll a, poll b) noexcept {
  return static_cast<poll>(static_cast<unsigned>(a) | static_cast<unsigned>(b));
}
constexpr poll operator&(poll a, poll b) noexcept {
  return static_cast<poll>(static_cast<unsigned>(a) & static_cast<unsigned>(b));
}
constexpr bool any(poll p) noexcept { return static_cast<unsigned>(p) != 0; }

namespace detail {

/// Bytes of callable an io block holds in place; larger callables, or ones whose move may
/// throw, are copied to the heap and the block holds the pointer.
inline constexpr std::size_t io_inline_bytes = 4 * sizeof(void*);

/// The block's slot class (48 or 64 bytes) for a callable of `bytes` bytes: the block's
/// 32-byte header, the callable.
constexpr std::uint8_t io_slot_class(std::size_t bytes) { return slot_class_for(4 * sizeof(void*) + (bytes + 7) / 8 * 8); }

/// Starts watching (at most one allocation) with a callable the caller then constructs in
/// place; `ops` must match what it constructs, `slot_class` its io_slot_class(). Throws
/// std::system_error (EBADF …) when the fd cannot be watched. If the construction throws,
/// io_abort(b).
block_room io_start(loop_impl*, int fd, poll events, const callable_ops<void, poll>* ops, std::uint8_t slot_class);
/// Undoes io_start() whose callable was never constructed.
void io_abort(block*) noexcept;
/// block_stop() for an io block: the re-arm path (destroy + create) without the dispatch on
/// the kind of block (ae::io's Stop).
void io_stop(block*) noexcept;
int io_fd(const block*) noexcept;

/// A callback that takes no argument, called with the ready bits.
template <class F>
struct ignore_poll {
  F f;
  template <class G>
  explicit ignore_poll(G&& g) noexcept(std::is_nothrow_constructible_v<F, G&&>) : f(std::forward<G>(g)) {}
  void operator()(poll) { f(); }
};

/// Starts an io watcher with its callable built in place (construct_in_place).
template <class F>
block* make_io(loop_impl* l, int fd, poll events, F&& cb) {
  using D = std::conditional_t<std::is_invocable_v<std::decay_t<F>&, poll>, std::decay_t<F>, ignore_poll<std::decay_t<F>>>;
  if constexpr (fits_inline<D>(io_inline_bytes)) {
    const block_room r = io_start(l, fd, events, &inline_ops<D, void, poll>, io_slot_class(sizeof(D)));
    construct_in_place<D>(r, &io_abort, std::forward<F>(cb));
    return r.b;
  } else {
    D* copy = new D(std::forward<F>(cb));
    try {
      const block_room r = io_start(l, fd, events, &heap_ops<D, void, poll>, io_slot_class(sizeof(D*)));
      ::new (r.callable) D*(copy);
      return r.b;
    } catch (...) {
      delete copy;
      throw;
    }
  }
}

}  // namespace detail

class io : public detail::basic_watcher<detail::io_stop> {
 public:
  io() noexcept = default;

  /// Watch `fd` for `events`; `cb` runs on the loop each time it is ready. Throws
  /// std::system_error with EBADF for a descriptor that is not open.
  template <class F>
    requires(std::is_invocable_v<F&> || std::is_invocable_v<F&, poll>)
  io(int fd, poll events, F&& cb, loop& l = default_loop())
      : basic_watcher(detail::make_io(l.impl(), fd, events, std::forward<F>(cb))) {}

  /// The watched descriptor, or -1 when inactive.
  int fd() const noexcept { return b_ ? detail::io_fd(b_) : -1; }
};

}  // namespace ae
