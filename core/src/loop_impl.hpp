// The core's per-loop state. Private to core/.
//
// Shape, and why:
// 1. Watcher state lives in one block per watcher start (the public handle is one pointer,
//    so handles move freely while the core holds the block). io and timer blocks, the ones
//    started by the thousand, are slots of the loop's block_pools (32, 48 or 64 bytes, by
//    the size of their callable, which is built in place); the rarer kinds come from
//    operator new.
// 2. io watchers hang off a per-fd entry, found through a table indexed by fd. The backend
//    sees one registration per fd with the union of the watchers' masks (libuv allows one
//    poll handle per fd; libev's backend_modify works the same way), so two watchers on one
//    fd cost one registration. Entries exist only for fds ever watched (an fd number never
//    watched costs four bytes of table), and each carries the backend's per-fd state right
//    behind it: one record per watched fd, whatever the fd numbers in between. Backends hand
//    the slot back with each event (hooks.io), so dispatch needs no lookup by fd.
// 3. Timers are a 4-ary min-heap of {deadline, block*}: the deadline sits beside the pointer,
//    so sifting never dereferences a block (cache misses dominate timer cost). The backend
//    only ever sees the earliest deadline, so fixed-rate intervals, "never early" and the
//    order of equal deadlines are decided here, once, for every backend.
// 4. Lists are intrusive and iterated through a cursor that erase() advances, so a callback
//    may stop or destroy itself or any sibling while its list is being dispatched. An fd's
//    io list uses the loop's one io cursor (io dispatches never nest: a callback cannot run
//    an iteration), which keeps an fd entry at 16 bytes; an fd with one watcher, the common
//    case, is dispatched without a cursor at all.
// 5. Nothing on the dispatch path allocates: scratch vectors keep their capacity.
// 6. Watcher handles may outlive their loop (members declared in the wrong order, a handle
//    kept in a global). When the last loop handle goes, the loop is torn down — attachments,
//    queued work, the backend; pidfds closed, signal dispositions restored — but its memory
//    (and the pool the blocks live in) stays until the last block is deleted, so stopping or
//    destroying such a handle later is harmless. block_stop on a dead loop only frees.
// 7. A block names its loop by a 16-bit id (loop_table), not a pointer: with the kind, state
//    and flags that makes a 4-byte header, so a timer's header (with its heap index and the
//    callable's ops) is 16 bytes and an io block's 32, and the typical callable — two
//    captured pointers — fits a 32-byte timer slot and a 48-byte io slot (DESIGN §7: a timer
//    <= 64 B and an io watcher <= 128 B, or the library's own + 64 B, with the heap entry and
//    the handle). The price: at most 65,536 loops exist at once (loop_impl throws beyond).
// 8. On the built-in backends, which only the core runs, a stop does not lower the fd's
//    registration at once: the entry is queued and its union recomputed just before the next
//    wait (flush_shrinks). A watcher destroyed and re-created for the same fd and mask in
//    between — the re-arm of DESIGN §7 — then costs no call into the backend at all; an
//    event meanwhile for an fd left without watchers finds nobody to call. Such a start (no
//    watcher left, the registered events exactly) marks the queued entry moot, so the flush
//    passes it without reading its watchers; any later stop queues it again. Foreign loops
//    may be run by their host, which never tells the core before it waits: there every stop
//    reaches the backend at once. ae::fd's close and fork_child flush first.
#pragma once

#include "append_array.hpp"

#include <anyevent/backend.hpp>
#include <anyevent/child.hpp>
#include <anyevent/io.hpp>
#include <anyevent/loop.hpp>
#include <anyevent/signal.hpp>
#include <anyevent/timer.hpp>

#include <algorithm>

#include <atomic>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace ae::detail {

enum class kind : std::uint8_t { io, timer, signal, child, idle, async };

struct loop_impl;
/// Every loop that exists, by id (note 7). Written under a mutex when a loop is made or
/// freed; read by the thread that runs the loop, which received it after it was written.
extern loop_impl* loop_table[1 << 16] __attribute__((visibility("hidden")));

// The header is 4 bytes; a timer's heap index follows it, so its pointers start at offset 8
// (an io block leaves those 4 bytes unused).
struct block {
  std::uint16_t loop_id;
  // 0 idle; running: its callback is on the stack; queued: a timer in this pass's due list;
  // zombie: stopped while running or queued, freed by whoever runs or dequeues it. A whole
  // byte: it is written around every callback.
  std::uint8_t state = 0;
  // io: the events watched (bits 0-1, so dispatch masks them with one `and`) and the slot
  // class; timer: the slot class and the repeat flag.
  std::uint8_t mask : 4 = 0;
  std::uint8_t kind_bits : 3;
  std::uint8_t active : 1 = 1;

  block(loop_impl* l, kind k) noexcept;
  loop_impl* loop() const noexcept { return loop_table[loop_id]; }
  kind what() const noexcept { return static_cast<kind>(kind_bits); }
};
static_assert(sizeof(block) == 4);
inline constexpr std::uint8_t running = 1, zombie = 2, queued = 3;  // block::state

/// Frees a block of any kind (after it was unlinked).
void delete_block(block*) noexcept;

/// Fixed-size slots for io and timer blocks, so a start in steady state costs a free-list pop
/// instead of a malloc (DESIGN §7: timer create <= libev, whose users embed the ev_timer in
/// their own memory). 64-byte slots are cache-line aligned; 32 and 48 hold small timers.
/// 1. Chunks double from 16 to 256 slots (16 KiB of 64-byte slots): a loop with a few
///    watchers holds 1 KiB, and the unused tail of the newest chunk stays small next to the
///    live blocks (DESIGN §7 budgets bytes per watcher, measured right after a burst of
///    starts).
/// 2. Memory goes back to malloc only when the loop is destroyed: the pool keeps its high
///    water mark, like the timer heap's capacity.
/// 3. Loop thread only, like everything that starts or stops a watcher.
/// 4. Under ASan, slots not handed out are poisoned, so a use after delete_block is still
///    reported although the memory is not freed.
void pool_poison(void* p, std::size_t bytes) noexcept;
void pool_unpoison(void* p, std::size_t bytes) noexcept;
#if !defined(__SANITIZE_ADDRESS__)
inline void pool_poison(void*, std::size_t) noexcept {}
inline void pool_unpoison(void*, std::size_t) noexcept {}
#endif

class block_pool {
 public:
  static constexpr std::size_t max_chunk_slots = 256;

  /// Slots of `slot_size` bytes (a multiple of 16), aligned to the largest power of two that
  /// divides it: 64 -> a cache line, 48 -> 16.
  explicit block_pool(std::size_t slot_size) noexcept : size_(slot_size), align_(slot_size & (~slot_size + 1)) {}
  ~block_pool() {
    // Blocks still in use belong to handles that must not be used after their loop is gone
    // (stopping one reaches the loop anyway), so no slot is waited for.
    for (link* c = chunks_; c;) {
      link* prev = c->next;
      ::operator delete(c, std::align_val_t{align_});
      c = prev;
    }
  }
  block_pool(const block_pool&) = delete;
  block_pool& operator=(const block_pool&) = delete;

  /// A slot given back earlier, or nullptr: the steady state, which never allocates.
  void* try_get() noexcept {
    link* s = free_;
    if (s) {
      pool_unpoison(s, size_);
      free_ = s->next;
    }
    return s;
  }
  /// Uninitialized room for one block; throws std::bad_alloc.
  void* get() {
    if (void* s = try_get()) return s;
    if (next_ != end_) {
      std::byte* p = next_;
      next_ += size_;
      pool_unpoison(p, size_);
      return p;
    }
    return grow();
  }
  /// Gives back a slot from get() whose block was destroyed.
  void put(void* p) noexcept {
    auto* s = static_cast<link*>(p);
    s->next = free_;
    free_ = s;
    pool_poison(s, size_);
  }

 private:
  struct link {  // the first bytes of a free slot, and of each chunk's first slot
    link* next;
  };

  [[gnu::noinline]] void* grow() {
    const std::size_t n = chunk_slots_;
    auto* c = static_cast<std::byte*>(::operator new(n * size_, std::align_val_t{align_}));
    auto* head = reinterpret_cast<link*>(c);
    head->next = chunks_;
    chunks_ = head;
    if (chunk_slots_ < max_chunk_slots) chunk_slots_ *= 2;
    // Slot 0 links the chunks, slot 1 is handed out now, the rest is carved on demand.
    next_ = c + 2 * size_;
    end_ = c + n * size_;
    pool_poison(next_, end_ - next_);
    return c + size_;
  }

  link* free_ = nullptr;
  std::byte* next_ = nullptr;  // the never-used tail of the newest chunk
  std::byte* end_ = nullptr;
  link* chunks_ = nullptr;     // newest chunk; the first slot of each links to the one before
  std::size_t chunk_slots_ = 16;
  const std::size_t size_;
  const std::size_t align_;
  void* unused_ = nullptr;  // 64 bytes: pools[slot_class] is a shift away, not a multiply
};
static_assert(sizeof(block_pool) == 64);

/// Intrusive doubly-linked list with a dispatch cursor (see note 4).
template <class T>
struct ilist {
  T* head = nullptr;
  T* cursor = nullptr;

  /// New entries go to the front, so a dispatch in progress never reaches them.
  void push_front(T* x) noexcept {
    x->prev = nullptr;
    x->next = head;
    if (head) head->prev = x;
    head = x;
  }
  void erase(T* x) noexcept {
    if (cursor == x) cursor = x->next;
    if (x->prev) x->prev->next = x->next;
    else head = x->next;
    if (x->next) x->next->prev = x->prev;
    x->prev = x->next = nullptr;
  }
  bool empty() const noexcept { return head == nullptr; }
  /// Calls f(T*) for each entry; f may erase any entry, including the current one.
  template <class F>
  void dispatch(F&& f) {
    T* saved = cursor;  // dispatches nest when a callback runs a nested dispatch of this list
    for (T* x = head; x;) {
      cursor = x->next;
      f(x);
      x = cursor;
    }
    cursor = saved;
  }
};

inline constexpr std::uint32_t npos = 0xffffffffu;  // timer_block::heap_index: not in the heap

/// The parts of a block whose callable is built in place after it (io and timer blocks).
/// Slot classes 0, 1, 2 are the loop's 32-, 48- and 64-byte pools.
inline constexpr std::size_t slot_sizes[3] = {32, 48, 64};

struct fd_entry;

/// An io watcher: this header, then the callable, which io.hpp constructs in place (a
/// callable of up to two pointers takes a 48-byte slot, up to four 64; larger ones live on the
/// heap behind a pointer). block::mask holds the events (bits 0-1) and the slot class.
/// The block names its fd's entry, so a stop needs no lookup by fd, and an fd's watchers are
/// a singly linked list, as in libev: unlinking walks from the head, which is nearly always
/// the watcher itself (one watcher per fd is the common case).
struct io_block : block {
  fd_entry* entry;
  io_block* next = nullptr;
  const callable_ops<void, poll>* ops;

  io_block(loop_impl* l, fd_entry* e, unsigned events, const callable_ops<void, poll>* o, unsigned slot_class) noexcept
      : block(l, kind::io), entry(e), ops(o) {
    mask = static_cast<std::uint8_t>(events | slot_class << 2);
  }
  unsigned events() const noexcept { return mask & 3u; }
  unsigned slot_class() const noexcept { return mask >> 2; }
  void* callable() noexcept { return this + 1; }
  /// Runs the callback (loop_impl::invoke calls a block like a function).
  void operator()(poll p) { ops->call(callable(), std::move(p)); }
};
static_assert(sizeof(io_block) == 4 * sizeof(void*) && sizeof(io_block) + io_inline_bytes == 64,
              "io.hpp's inline capacity must match the largest slot");
static_assert(io_slot_class(16) == 1 && io_slot_class(24) == 2 && io_slot_class(32) == 2,
              "io.hpp's slot classes must match slot_sizes");

/// A timer: this header, then the interval (repeating timers only), then the callable, which
/// timer.hpp constructs in place. One-shot timers whose callable captures up to two pointers
/// take 32 bytes, up to four 48, up to six 64 (DESIGN §7: <= 64 B per timer with the heap
/// entry and the handle); larger callables live on the heap behind a pointer.
/// The slot class and the repeat flag sit in block::mask, which timers do not otherwise use.
struct timer_block : block {
  std::uint32_t heap_index = npos;  // npos when not in the heap; the deadline lives in the heap entry
  const callable_ops<void>* ops;

  timer_block(loop_impl* l, const callable_ops<void>* o, unsigned flags) noexcept : block(l, kind::timer), ops(o) {
    mask = static_cast<std::uint8_t>(flags);
  }
  bool repeats() const noexcept { return mask & timer_repeats; }
  unsigned slot_class() const noexcept { return mask & 3u; }
  std::int64_t& interval() noexcept { return *reinterpret_cast<std::int64_t*>(this + 1); }
  void* callable() noexcept { return reinterpret_cast<std::byte*>(this + 1) + (repeats() ? sizeof(std::int64_t) : 0); }
  /// Runs the callback (loop_impl::invoke calls a block like a function).
  void operator()() { ops->call(callable()); }

  static constexpr std::uint8_t timer_repeats = 4;
};
static_assert(sizeof(timer_block) == 2 * sizeof(void*) && sizeof(timer_block) + timer_inline_bytes[0] == 64 &&
                  sizeof(timer_block) + sizeof(std::int64_t) + timer_inline_bytes[1] == 64,
              "timer.hpp's inline capacities must match the largest timer slot");
static_assert(timer_slot_class(16, false) == 0 && timer_slot_class(24, false) == 1 &&
                  timer_slot_class(32, false) == 1 && timer_slot_class(40, false) == 2 &&
                  timer_slot_class(8, true) == 0 && timer_slot_class(16, true) == 1 && timer_slot_class(32, true) == 2,
              "timer.hpp's slot classes must match slot_sizes");

struct list_block : block {
  using block::block;
  list_block* prev = nullptr;
  list_block* next = nullptr;
};

struct idle_block : list_block {
  using list_block::list_block;
  unique_function<void()> cb;
};

struct async_block : list_block {
  using list_block::list_block;
  std::atomic<bool> pending{false};
  unique_function<void()> cb;
};

struct signal_block : list_block {
  using list_block::list_block;
  int signum;
  unique_function<void()> cb;
};

struct child_block : list_block {
  using list_block::list_block;
  pid_t pid;
  int pidfd = -1;            // pid > 0 on Linux >= 5.3: readable when the child exits
  block* pidfd_io = nullptr;  // the core's own io watcher on it
  unique_function<void(pid_t, int)> cb;
};

/// One watched fd. In memory it is followed by the backend's io_size bytes for this fd
/// (loop_impl::slot), in a record that never moves and lives as long as the loop.
struct fd_entry {
  io_block* head = nullptr;   // the fd's watchers, newest first
  int fd;
  std::uint8_t mask = 0;      // union registered with the backend (note 8: may exceed the watchers')
  bool always_ready = false;  // the backend said EPERM: report ready every iteration
  std::uint8_t shrink_queued = 0;  // note 8: 0 no, 1 in loop_impl::shrinks, 2 there but moot
};
static_assert(sizeof(fd_entry) == 16 && alignof(fd_entry) == 8);

struct heap_entry {
  std::int64_t deadline;
  timer_block* t;
};

/// The timer heap's array: the part of std::vector's interface the heap uses, grown by half
/// again (not doubled) with realloc, which moves a large array by remapping its pages instead
/// of copying it. The slack after a burst of starts averages ~20 % of 16 B, not ~40 %
/// (DESIGN §7 counts it in the bytes per timer). Capacity is kept, like the pool's.
class heap_array {
 public:
  heap_array() noexcept = default;
  ~heap_array() { std::free(p_); }
  heap_array(const heap_array&) = delete;
  heap_array& operator=(const heap_array&) = delete;

  bool empty() const noexcept { return n_ == 0; }
  std::size_t size() const noexcept { return n_; }
  heap_entry& operator[](std::size_t i) noexcept { return p_[i]; }
  heap_entry& front() noexcept { return p_[0]; }
  const heap_entry& front() const noexcept { return p_[0]; }
  heap_entry& back() noexcept { return p_[n_ - 1]; }
  void pop_back() noexcept { --n_; }
  /// Makes room for one more entry; throws std::bad_alloc, leaving the array as it was.
  void reserve_one() {
    if (n_ == cap_) grow();
  }
  /// Only after reserve_one().
  void push_back(const heap_entry& e) noexcept { p_[n_++] = e; }

 private:
  void grow() {
    const std::size_t cap = cap_ < 16 ? 16 : cap_ + cap_ / 2;
    if (cap > npos) throw std::bad_alloc();  // heap_index is 32 bits
    auto* p = static_cast<heap_entry*>(std::realloc(p_, cap * sizeof(heap_entry)));
    if (!p) throw std::bad_alloc();
    p_ = p;
    cap_ = cap;
  }

  heap_entry* p_ = nullptr;
  std::size_t n_ = 0, cap_ = 0;
};

/// A loop's entry in loop_table, taken when the loop is made and given back when its memory
/// goes. Throws ae::error when 65,536 loops exist.
class loop_id {
 public:
  explicit loop_id(loop_impl*);
  ~loop_id();
  loop_id(const loop_id&) = delete;
  loop_id& operator=(const loop_id&) = delete;
  std::uint16_t value() const noexcept { return v_; }

 private:
  std::uint16_t v_;
};

struct loop_impl {
  loop_impl(const backend::ops* ops, void* native, bool library_default);
  ~loop_impl();
  loop_impl(const loop_impl&) = delete;
  loop_impl& operator=(const loop_impl&) = delete;

  /// A new loop behind a handle whose last copy calls release().
  static std::shared_ptr<loop_impl> make(const backend::ops* ops, void* native, bool library_default);
  /// The last handle went: tear the loop down (note 6). Its memory stays while blocks of
  /// watcher handles that outlived it remain, and goes with the last of them.
  static void release(loop_impl* l) noexcept;
  const loop_id id{this};  // first member: given back last, when nothing can reach the loop
  /// Every started block that has not been deleted yet (any kind).
  std::size_t blocks = 0;
  /// Torn down: the backend is gone and no watcher is linked anywhere the loop looks.
  bool dead = false;
  /// defer_shrink and not dead: io_stop's common case, tested once (note 8).
  bool quick_stops = false;
  /// A block was deleted: frees a dead loop with its last block.
  void block_gone() noexcept {
    if (--blocks == 0 && dead) delete this;
  }
  /// Per-loop objects of other modules (ae::dns's default resolver), destroyed first in
  /// teardown, while every watcher may still be stopped normally.
  std::vector<std::pair<const void*, std::shared_ptr<void>>> attachments;

  const backend::ops* ops;
  void* be = nullptr;
  backend::core_hooks hooks{};
  // Before every member whose destruction may stop a watcher (a postponed callback may own
  // a handle), so the pools outlive them. io and timer blocks, by slot class (slot_sizes).
  block_pool pools[3] = {block_pool(slot_sizes[0]), block_pool(slot_sizes[1]), block_pool(slot_sizes[2])};
  // Always inlined: a start is a handful of stores, and an out-of-line member of the shared
  // library is called through the PLT.
  __attribute__((always_inline)) void* slot_get(unsigned slot_class) { return pools[slot_class].get(); }
  __attribute__((always_inline)) void slot_put(void* p, unsigned slot_class) noexcept { pools[slot_class].put(p); }

  // Liveness: started watchers (io, active timers, signal, child, idle, async) plus queued
  // work. run() returns when it drops to zero.
  long alive = 0;
  bool stop_requested = false;
  std::exception_ptr pending_exception;

  // io (note 2): records (an entry followed by the backend's slot) are numbered from 1 in
  // the order their fds were first watched and live in chunks of 64 that never move — a
  // dispatch in progress holds a reference to an entry while callbacks may watch new fds
  // (the first chunk's slot 0 is never handed out). fd -> record number (0: none) through
  // chunks of 64 four-byte numbers; a chunk where no fd was watched yet is the shared,
  // all-zero empty_chunk, so a lookup is a bounds check and three loads (a re-arm makes one
  // per start). Equal chunks: the last one is the only one with unused room, and a dense
  // range of fds wastes nothing.
  static constexpr int chunk_bits = 6;
  static constexpr std::uint32_t chunk_mask = (1u << chunk_bits) - 1;
  static const std::uint32_t empty_chunk[1 << chunk_bits];
  std::vector<std::uint32_t*> fd_table;  // each owned (new[]) unless it is empty_chunk
  std::vector<std::unique_ptr<std::byte[]>> fd_arena;
  std::uint32_t records = 1;      // the next record number
  std::size_t record_size = 0;    // fd_entry plus io_size, rounded up to 8
  io_block* io_cursor = nullptr;  // next watcher of the fd being dispatched (note 4)
  fd_entry* record(std::uint32_t i) noexcept {
    return reinterpret_cast<fd_entry*>(fd_arena[i >> chunk_bits].get() + (i & chunk_mask) * record_size);
  }
  /// The backend's per-fd state (io_size bytes) behind an entry, and back.
  static void* slot(fd_entry* e) noexcept { return e + 1; }
  static fd_entry* entry_of(void* slot) noexcept { return static_cast<fd_entry*>(slot) - 1; }
  /// The backend's per-fd state of an fd whose entry exists.
  void* slot(int fd) noexcept { return slot(find(fd)); }
  /// The record number of fd, or 0 if that fd was never watched (a negative fd lands past
  /// the table).
  std::uint32_t number(int fd) noexcept {
    const auto c = static_cast<std::size_t>(fd) >> chunk_bits;
    return c < fd_table.size() ? fd_table[c][fd & chunk_mask] : 0;
  }
  /// The entry of fd, or nullptr if that fd was never watched.
  fd_entry* find(int fd) noexcept {
    const std::uint32_t r = number(fd);
    return r ? record(r) : nullptr;
  }
  static void io_link(fd_entry& e, io_block* w) noexcept {
    w->next = e.head;
    e.head = w;
  }
  void io_unlink(fd_entry& e, io_block* w) noexcept {
    if (io_cursor == w) io_cursor = w->next;
    io_block** p = &e.head;
    while (*p != w) p = &(*p)->next;
    *p = w->next;
  }
  std::vector<int> always_ready;                          // fds with always_ready set
  const bool defer_shrink;           // note 8: a built-in backend
  append_array<fd_entry*> shrinks;   // note 8: entries whose watchers went since the last wait
  /// A watcher of `e` went: lower the registration now, or before the next wait (note 8).
  void io_shrink(fd_entry& e) {
    if (defer_shrink && !e.always_ready) [[likely]] {
      if (!e.shrink_queued) shrinks.append(&e);  // first: it may throw
      e.shrink_queued = 1;
      return;
    }
    update_fd(e);
  }
  /// Applies the queued shrinks (note 8). Errors are logged: they only mean the fd was closed
  /// under its watchers.
  void flush_shrinks() noexcept;
  /// Applies one queued shrink now; its place in the queue is skipped later.
  void flush_shrink(fd_entry& e) noexcept;

  // timers
  heap_array heap;
  std::vector<timer_block*> due;
  bool in_timer_dispatch = false;
  std::int64_t armed = -1;  // deadline given to the backend, -1 none

  // idle, async, postpone, post
  ilist<list_block> idles;
  ilist<list_block> asyncs;
  std::atomic<bool> async_pending{false};
  std::vector<unique_function<void()>> postponed, postponed_run;
  std::mutex post_mutex;
  std::vector<unique_function<void()>> posted, posted_run;
  std::atomic<bool> post_pending{false};

  // signals and children (signals.cpp, children.cpp)
  ilist<list_block> signals[65];
  int signal_slot = -1;  // index in the process-wide table of loops the handler wakes
  ilist<list_block> children;
  int sigchld_users = 0;       // pid-0 watchers and watchers without a pidfd
  block* sigchld = nullptr;    // the core's own SIGCHLD watcher while sigchld_users > 0

  // --- used by the watcher code ---
  std::int64_t now() const noexcept { return ops->now(be); }
  /// The entry of fd, made on first use; throws std::bad_alloc.
  fd_entry& entry(int fd) {
    if (fd_entry* e = find(fd)) [[likely]] return *e;
    return entry_slow(fd);
  }
  fd_entry& entry_slow(int fd);
  fd_entry* new_entry(int fd);
  /// Recompute the union mask of fd's watchers and tell the backend when it changed. Inline:
  /// a re-arm runs it twice, and its rare paths (an fd that is always ready, a refusal) are
  /// out of line, so the common one keeps few registers.
  void update_fd(fd_entry& e) {
    unsigned want = 0;
    for (auto* w = e.head; w; w = w->next) want |= w->events();
    if (want != e.mask) set_fd_mask(e, want);
  }
  /// Tells the backend the union mask of fd's watchers is now `want` (!= e.mask).
  void set_fd_mask(fd_entry& e, unsigned want) {
    const int err = e.always_ready ? 0 : ops->io(be, slot(&e), e.fd, e.mask, want);
    if (!err && !e.always_ready) [[likely]] {
      e.mask = static_cast<std::uint8_t>(want);
      return;
    }
    update_fd_rest(e, want, err);
  }
  /// update_fd() for an always-ready fd (err unused) or a backend that refused (err).
  [[gnu::noinline, gnu::cold]] void update_fd_rest(fd_entry& e, unsigned want, int err);
  void dispatch_io(fd_entry& e, unsigned revents) noexcept;
  void heap_push(timer_block* t, std::int64_t deadline) noexcept;
  void heap_remove(timer_block* t);
  void heap_sift_down(std::uint32_t i);
  void heap_sift_up(std::uint32_t i) noexcept;
  void rearm() noexcept;
  void run_iteration(bool nowait);

  template <class F, class... A>
  void invoke(F& f, A&&... a) noexcept;
  /// Calls a watcher's callback. A callback that destroys its own watcher may go on using
  /// what it captured: the block is freed only once the callback has returned.
  template <class B, class... A>
  void call(B* b, A&&... a) noexcept {
    b->state = running;
    if constexpr (requires { b->cb; }) invoke(b->cb, std::forward<A>(a)...);
    else invoke(*b, std::forward<A>(a)...);
    if (b->state == zombie) delete_block(b);
    else b->state = 0;
  }

  // backend hooks
  static void on_io(void* core, void* slot, unsigned revents);
  void io_ready(fd_entry& e, unsigned revents) noexcept;
  static void on_timer(void* core);
  static void on_idle(void* core);
  static void on_wakeup(void* core);

  void dispatch_signals();
};

inline block::block(loop_impl* l, kind k) noexcept : loop_id(l->id.value()), kind_bits(static_cast<std::uint8_t>(k)) {}

// Inline: a timer start is a handful of stores plus these, and a call into the shared
// library's own exported symbols goes through the PLT.
inline void loop_impl::heap_sift_up(std::uint32_t i) noexcept {
  heap_entry x = heap[i];
  while (i > 0) {
    const std::uint32_t parent = (i - 1) / 4;
    if (heap[parent].deadline <= x.deadline) break;
    heap[i] = heap[parent];
    heap[i].t->heap_index = i;
    i = parent;
  }
  heap[i] = x;
  x.t->heap_index = i;
}

/// Only after heap.reserve_one(). Sifts a hole up and writes the new entry once.
inline void loop_impl::heap_push(timer_block* t, std::int64_t deadline) noexcept {
  auto i = static_cast<std::uint32_t>(heap.size());
  heap.push_back({deadline, t});
  while (i > 0) {
    const std::uint32_t parent = (i - 1) / 4;
    if (heap[parent].deadline <= deadline) break;
    heap[i] = heap[parent];
    heap[i].t->heap_index = i;
    i = parent;
  }
  heap[i] = {deadline, t};
  t->heap_index = i;
}

/// Depth of user callbacks on this thread (recv() inside one throws recursive_wait).
/// initial-exec: counted around every callback, and the default model for a shared library
/// costs a __tls_get_addr call per access (about 20 instructions a dispatched event).
/// glibc keeps static TLS room for a few such bytes, so a dlopen'ed libanyevent still works.
extern thread_local int callback_depth __attribute__((tls_model("initial-exec")));

/// Runs a user callback: counts the depth and parks an exception for run() to rethrow
/// (exceptions must not unwind through a C library's frames).
template <class F, class... A>
void loop_impl::invoke(F& f, A&&... a) noexcept {
  ++callback_depth;
  try {
    f(std::forward<A>(a)...);
  } catch (...) {
    if (!pending_exception) pending_exception = std::current_exception();
    ops->stop(be);
  }
  --callback_depth;
}

// signals.cpp
void signal_watch(loop_impl*, int signum);    // first watcher of signum in this loop
void signal_unwatch(loop_impl*, int signum);  // last watcher of signum in this loop went
void signal_release_loop(loop_impl*) noexcept;

// registry.cpp
const backend::ops* builtin_ops();

// every live loop, for fd_closing()
void register_loop(loop_impl*);
void unregister_loop(loop_impl*) noexcept;

}  // namespace ae::detail
