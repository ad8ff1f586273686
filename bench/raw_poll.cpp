// Baseline "raw-poll": a minimal poll(2) loop written as a careful built-in backend would be,
// the reference for anyevent's built-in loop with ANYEVENT_POLL_METHOD=poll
// (column "poll-posix").
//
// 1. One dense pollfd array handed to poll(2) as is, plus fd → position; removal swaps the
//    last entry into the hole, so the array never has gaps to skip.
// 2. Changes are lazy (noted per fd, applied before the next poll), so the array does not
//    move while callbacks run and a destroy + create in one iteration costs nothing.
// 3. After poll returns n, the scan stops at the n-th ready entry.
// 4. Dispatch walks the fd's list through a cursor, so a callback may stop any watcher.
// 5. The time is read once per iteration, after the wait, as a loop with timers must.
#include "workloads.hpp"

#include <cerrno>
#include <cstring>
#include <poll.h>

namespace ae::bench {
namespace {

struct watcher {
  int fd = -1;
  short mask = 0;
  void (*cb)(watcher*, short revents) = nullptr;
  void* data = nullptr;
  int idx = 0;
  watcher* prev = nullptr;
  watcher* next = nullptr;
};

struct fd_state {
  watcher* head = nullptr;
  int pos = -1;  // index in the pollfd array, -1 when absent
  bool queued = false;
};

class poll_loop {
 public:
  void start(watcher* w) {
    if (static_cast<std::size_t>(w->fd) >= fds_.size()) fds_.resize(w->fd + 1 + w->fd / 2);
    fd_state& s = fds_[w->fd];
    w->prev = nullptr;
    w->next = s.head;
    if (s.head) s.head->prev = w;
    s.head = w;
    note(w->fd, s);
  }

  void stop(watcher* w) {
    fd_state& s = fds_[w->fd];
    if (cursor_ == w) cursor_ = w->next;
    if (w->prev) w->prev->next = w->next;
    else s.head = w->next;
    if (w->next) w->next->prev = w->prev;
    w->prev = w->next = nullptr;
    note(w->fd, s);
  }

  void iterate(int timeout_ms) {
    apply_changes();
    int n = ::poll(pfds_.data(), pfds_.size(), timeout_ms);
    now_ns_ = wall_ns();  // note 5
    if (n < 0 && errno != EINTR) die(std::string("poll: ") + std::strerror(errno));
    for (std::size_t i = 0; n > 0 && i < pfds_.size(); ++i) {
      const short re = pfds_[i].revents;
      if (!re) continue;
      --n;
      short bits = 0;
      if (re & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) bits |= POLLIN;
      if (re & (POLLOUT | POLLHUP | POLLERR | POLLNVAL)) bits |= POLLOUT;
      for (watcher* w = fds_[pfds_[i].fd].head; w; w = cursor_) {
        cursor_ = w->next;
        if (w->mask & bits) w->cb(w, bits);
      }
      cursor_ = nullptr;
    }
  }

 private:
  void note(int fd, fd_state& s) {
    if (s.queued) return;
    s.queued = true;
    changes_.push_back(fd);
  }

  void apply_changes() {
    for (int fd : changes_) {
      fd_state& s = fds_[fd];
      s.queued = false;
      short want = 0;
      for (watcher* w = s.head; w; w = w->next) want |= w->mask;
      if (want && s.pos < 0) {
        s.pos = static_cast<int>(pfds_.size());
        pfds_.push_back({fd, want, 0});
      } else if (want) {
        pfds_[s.pos].events = want;
      } else if (s.pos >= 0) {
        const pollfd last = pfds_.back();
        pfds_[s.pos] = last;
        fds_[last.fd].pos = s.pos;
        pfds_.pop_back();
        s.pos = -1;
      }
    }
    changes_.clear();
  }

  std::vector<fd_state> fds_;
  std::vector<pollfd> pfds_;
  std::vector<int> changes_;
  watcher* cursor_ = nullptr;
  std::int64_t now_ns_ = 0;
};

struct driver {
  poll_loop loop;
  std::vector<watcher> ws;
  io_ctx* ctx = nullptr;
  pingpong_ctx* pp = nullptr;

  void reserve_io(int n) { ws.resize(n); }
  void io_start(int i, int fd, io_ctx* c) {
    ctx = c;
    watcher& w = ws[i];
    w.fd = fd;
    w.mask = POLLIN;
    w.data = this;
    w.idx = i;
    w.cb = [](watcher* w, short) { static_cast<driver*>(w->data)->ctx->on_read(w->idx); };
    loop.start(&w);
  }
  void io_stop(int i) { loop.stop(&ws[i]); }
  void run_nowait() { loop.iterate(0); }
  void run_once() { loop.iterate(-1); }

  void pingpong_start(pingpong_ctx* c) {
    pp = c;
    ws.resize(2);
    ws[0] = {c->client, POLLIN, [](watcher* w, short) { static_cast<driver*>(w->data)->pp->on_client_readable(); }, this};
    ws[1] = {c->server, POLLIN, [](watcher* w, short) { static_cast<driver*>(w->data)->pp->on_server_readable(); }, this};
    loop.start(&ws[0]);
    loop.start(&ws[1]);
  }
};

const register_raw reg{{"raw-poll", run_io<driver>, nullptr, run_pingpong<driver>}};

}  // namespace
}  // namespace ae::bench
