// Baseline "raw-epoll": a minimal epoll loop written as a careful built-in backend would be,
// the reference for anyevent's built-in loop (column "poll").
//
// 1. Per-fd state in an array indexed by fd, holding an intrusive list of watchers and the
//    mask registered in the kernel; several watchers may share an fd.
// 2. Registration is lazy, as libev's fd_reify: start/stop only note the fd, and the
//    difference is applied just before epoll_wait. A watcher destroyed and re-created for
//    the same fd and mask costs no syscall.
// 3. Level-triggered, 64 events per epoll_wait growing when full (libev starts at 64 too).
// 4. Dispatch walks the fd's list through a cursor, so a callback may stop any watcher.
// 5. The time is read once per iteration, after the wait: a loop that has timers must (to
//    cache now() and compute the next timeout), and libev and the built-in loop do.
#include "workloads.hpp"

#include <cerrno>
#include <cstring>
#include <sys/epoll.h>
#include <unistd.h>

namespace ae::bench {
namespace {

struct watcher {
  int fd = -1;
  std::uint32_t mask = 0;
  void (*cb)(watcher*, std::uint32_t revents) = nullptr;
  void* data = nullptr;
  int idx = 0;
  watcher* prev = nullptr;
  watcher* next = nullptr;
};

struct fd_state {
  watcher* head = nullptr;
  std::uint32_t kernel = 0;  // registered in the epoll set
  bool queued = false;
};

class epoll_loop {
 public:
  epoll_loop() : epfd_(::epoll_create1(EPOLL_CLOEXEC)), events_(64) {
    if (epfd_ < 0) die(std::string("epoll_create1: ") + std::strerror(errno));
  }
  ~epoll_loop() { ::close(epfd_); }
  epoll_loop(const epoll_loop&) = delete;
  epoll_loop& operator=(const epoll_loop&) = delete;

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
    const int n = ::epoll_wait(epfd_, events_.data(), static_cast<int>(events_.size()), timeout_ms);
    now_ns_ = wall_ns();  // note 5
    for (int i = 0; i < n; ++i) {
      const std::uint32_t ev = events_[i].events;
      std::uint32_t bits = 0;
      if (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)) bits |= EPOLLIN;
      if (ev & (EPOLLOUT | EPOLLHUP | EPOLLERR)) bits |= EPOLLOUT;
      for (watcher* w = fds_[events_[i].data.fd].head; w; w = cursor_) {
        cursor_ = w->next;
        if (w->mask & bits) w->cb(w, bits);
      }
      cursor_ = nullptr;
    }
    if (n == static_cast<int>(events_.size())) events_.resize(events_.size() * 2);
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
      std::uint32_t want = 0;
      for (watcher* w = s.head; w; w = w->next) want |= w->mask;
      if (want == s.kernel) continue;
      epoll_event ev{};
      ev.events = want;
      ev.data.fd = fd;
      const int op = !want ? EPOLL_CTL_DEL : s.kernel ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
      if (::epoll_ctl(epfd_, op, fd, &ev) < 0) die(std::string("epoll_ctl: ") + std::strerror(errno));
      s.kernel = want;
    }
    changes_.clear();
  }

  int epfd_;
  std::vector<fd_state> fds_;
  std::vector<int> changes_;
  std::vector<epoll_event> events_;
  watcher* cursor_ = nullptr;
  std::int64_t now_ns_ = 0;
};

struct driver {
  epoll_loop loop;
  std::vector<watcher> ws;
  io_ctx* ctx = nullptr;
  pingpong_ctx* pp = nullptr;

  void reserve_io(int n) { ws.resize(n); }
  void io_start(int i, int fd, io_ctx* c) {
    ctx = c;
    watcher& w = ws[i];
    w.fd = fd;
    w.mask = EPOLLIN;
    w.data = this;
    w.idx = i;
    w.cb = [](watcher* w, std::uint32_t) { static_cast<driver*>(w->data)->ctx->on_read(w->idx); };
    loop.start(&w);
  }
  void io_stop(int i) { loop.stop(&ws[i]); }
  void run_nowait() { loop.iterate(0); }
  void run_once() { loop.iterate(-1); }

  void pingpong_start(pingpong_ctx* c) {
    pp = c;
    ws.resize(2);
    ws[0] = {c->client, EPOLLIN, [](watcher* w, std::uint32_t) { static_cast<driver*>(w->data)->pp->on_client_readable(); }, this};
    ws[1] = {c->server, EPOLLIN, [](watcher* w, std::uint32_t) { static_cast<driver*>(w->data)->pp->on_server_readable(); }, this};
    loop.start(&ws[0]);
    loop.start(&ws[1]);
  }
};

const register_raw reg{{"raw-epoll", run_io<driver>, nullptr, run_pingpong<driver>}};

}  // namespace
}  // namespace ae::bench
