// The c-ares driver: one channel per resolver, moved only by ae watchers — an io watcher
// per socket that c-ares' socket-state callback asks for, ares_process_fd() when one is
// ready, and one timer that follows ares_timeout(). No thread, no private loop, no polling.
//
// Notes on c-ares 1.18 (Debian 12):
// 1. Options passed to ares_init_options() win over LOCALDOMAIN, RES_OPTIONS and
//    resolv.conf, and when every one of them is given c-ares reads no file at all; so we set
//    them all (servers follow with ares_set_servers_ports, which knows ports and IPv6).
// 2. There is no per-query cancel (ares_cancel drops every query). A cancelled query that
//    is already on the wire is marked and its callback dropped at once; its slot is given
//    back when c-ares finishes with it.
// 3. c-ares calls back synchronously from ares_search() on some errors, and from inside
//    ares_process_fd(), where destroying the channel would be a use after free. An answer
//    that comes out of ares_process_fd() is handed to its user callback right there (note 8);
//    one given synchronously, while ares_search()/ares_query() runs (submitting_), is only
//    recorded and delivered from pump() through the zero-delay kick timer, so no callback
//    runs before the call that started its query returned. A callback that destroys the
//    resolver inside ares_process_fd() only marks it closed and drops the other callbacks;
//    ares_destroy() and the dns_query objects c-ares still points at wait until
//    ares_process_fd() returned (process() -> release_channel()).
// 4. With socket functions installed c-ares sets no socket option itself: we open sockets
//    non-blocking and close-on-exec, set TCP_NODELAY, send with MSG_NOSIGNAL (its default
//    writev on a TCP socket the server closed would raise SIGPIPE), and close through
//    ae::fd so the loops drop lazily kept registrations before the number is reused.
// 5. CVE-2023-32067: c-ares < 1.19.1 takes a zero-length UDP datagram for a closed
//    connection and fails every query on that socket. Our recvfrom skips such datagrams.
// 6. ARES_FLAG_IGNTC stays off, so a truncated UDP answer is retried over TCP by c-ares.
// 7. ARES_FLAG_NOCHECKRESP stays off: SERVFAIL and REFUSED make c-ares try the next server
//    (as glibc does); when every attempt failed so, the query ends with ARES_ECONNREFUSED.
// 8. end_query() closes every socket of the channel when its last query ended and
//    ARES_FLAG_STAYOPEN is off — right after the answer callback returned. A program that asks
//    its next question from a callback (one query in flight; AnyEvent's usual style) keeps the
//    socket only if that question reaches c-ares inside the callback. Hence user callbacks
//    run from c-ares' own callback, and finish() refills free slots from the queue there too;
//    deferring them to after ares_process_fd() cost a socket, connect, watcher and close per
//    query (0.74x the raw c-ares loop at one in flight).
// 9. Exceptions must never unwind through c-ares' C frames: one thrown by a callback run inside
//    ares_process_fd() is caught and kept, the rest of that batch is recorded for pump(), and
//    process() rethrows it once ares_process_fd() returned; the core parks it and run()
//    rethrows it to the program, as for any watcher callback.
#include "dns_impl.hpp"

#include <anyevent/error.hpp>
#include <anyevent/fd.hpp>
#include <anyevent/log.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <utility>

namespace ae::detail {

struct dns_query {
  std::uint64_t id = 0;
  dns_resolver* owner = nullptr;
  std::string name;
  std::uint16_t type = 0;
  bool search = true;
  enum class state : std::uint8_t { queued, sent, done, cancelled } st = state::queued;
  std::error_code ec;
  dns_response result;
  dns_done done;
};

namespace {

std::error_code map_status(int status) {
  using std::errc;
  switch (status) {
    case ARES_SUCCESS: return {};
    case ARES_ENOTFOUND: return std::make_error_code(errc::no_such_device_or_address);
    case ARES_ENODATA: return std::make_error_code(errc::no_message_available);
    case ARES_ETIMEOUT: return std::make_error_code(errc::timed_out);
    case ARES_ESERVFAIL:  // c-ares moves on to the next server and reports ECONNREFUSED
    case ARES_EREFUSED:
    case ARES_ECONNREFUSED: return std::make_error_code(errc::connection_refused);
    case ARES_EBADNAME:
    case ARES_EBADQUERY: return std::make_error_code(errc::invalid_argument);
    case ARES_ENOMEM: return std::make_error_code(errc::not_enough_memory);
    default: return std::make_error_code(errc::bad_message);  // FORMERR, NOTIMP, EBADRESP, EOF…
  }
}

// ---- socket functions (note 4) ----

ares_socket_t sock_open(int domain, int type, int protocol, void*) {
  const int fd = ::socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) return ARES_SOCKET_BAD;
  if (type == SOCK_STREAM) {
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return fd;
}

int sock_close(ares_socket_t fd, void* data) {
  static_cast<dns_resolver*>(data)->forget(fd);
  ae::fd owned(fd);  // closes through ae::fd: tells the loops first
  return 0;
}

int sock_connect(ares_socket_t fd, const struct sockaddr* sa, ares_socklen_t len, void*) {
  return ::connect(fd, sa, len);
}

ares_ssize_t sock_recvfrom(ares_socket_t fd, void* buf, size_t len, int flags,
                           struct sockaddr* from, ares_socklen_t* from_len, void*) {
  const ares_socklen_t room = from_len ? *from_len : 0;
  for (;;) {
    if (from_len) *from_len = room;
    const ssize_t n = ::recvfrom(fd, buf, len, flags, from, from_len);
    // c-ares reads UDP with an address and TCP without one; an empty datagram is
    // skipped (note 5), an empty TCP read stays end-of-stream.
    if (n == 0 && from && len > 0) continue;
    return n;
  }
}

ares_ssize_t sock_sendv(ares_socket_t fd, const struct iovec* iov, int n, void*) {
  msghdr m{};
  m.msg_iov = const_cast<iovec*>(iov);
  m.msg_iovlen = static_cast<std::size_t>(n);
  return ::sendmsg(fd, &m, MSG_NOSIGNAL);
}

const ares_socket_functions socket_functions = {sock_open, sock_close, sock_connect,
                                                sock_recvfrom, sock_sendv};

void on_sock_state(void* data, ares_socket_t fd, int readable, int writable) {
  static_cast<dns_resolver*>(data)->watch(fd, readable != 0, writable != 0);
}

void on_answer(void* arg, int status, int /*timeouts*/, unsigned char* abuf, int alen) {
  auto* q = static_cast<dns_query*>(arg);
  q->owner->finish(q, status, abuf, alen);
}

void library_init() {
  static const int rc = ares_library_init(ARES_LIB_INIT_ALL);
  if (rc != ARES_SUCCESS)
    throw ae::error(std::make_error_code(std::errc::not_enough_memory),
                    std::string("ae::dns: ares_library_init failed: ") + ares_strerror(rc));
}

std::size_t env_max_outstanding() {
  const char* v = ::secure_getenv("ANYEVENT_MAX_OUTSTANDING_DNS");
  if (!v || !*v) return 10;
  char* end = nullptr;
  errno = 0;
  const long n = std::strtol(v, &end, 10);
  if (errno || *end || n < 1) return 10;
  return static_cast<std::size_t>(std::min<long>(n, 65536));
}

}  // namespace

dns_resolver::dns_resolver(dns::options o, loop& l) : opts_(std::move(o)), loop_(l) {
  library_init();
  if (opts_.max_outstanding == 0) opts_.max_outstanding = env_max_outstanding();
  if (opts_.servers.empty()) opts_.servers.emplace_back("127.0.0.1");
  opts_.ndots = std::clamp(opts_.ndots, 0, 15);
  opts_.attempts = std::clamp(opts_.attempts, 1, 16);
  if (opts_.timeout.count() < 1) opts_.timeout = std::chrono::milliseconds(1);
  if (opts_.timeout > std::chrono::hours(1)) opts_.timeout = std::chrono::hours(1);

  std::vector<ares_addr_port_node> nodes(opts_.servers.size());
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    if (!parse_server(opts_.servers[i], nodes[i]))
      throw ae::error(std::make_error_code(std::errc::invalid_argument),
                      "ae::dns::resolver: not a server address: '" + opts_.servers[i] + "'");
    nodes[i].next = i + 1 < nodes.size() ? &nodes[i + 1] : nullptr;
  }
  std::vector<std::string> checked;
  for (const auto& d : opts_.search) {
    std::string ascii;
    if (auto ec = dns_query_name(d, ascii))
      throw ae::error(ec, "ae::dns::resolver: not a search domain: '" + d + "'");
    checked.push_back(std::move(ascii));
  }
  opts_.search = checked;
  std::vector<char*> domains;
  for (auto& d : checked) domains.push_back(d.data());

  ares_options ao{};
  int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_NDOTS |
             ARES_OPT_DOMAINS | ARES_OPT_LOOKUPS | ARES_OPT_SERVERS | ARES_OPT_SORTLIST |
             ARES_OPT_SOCK_STATE_CB | ARES_OPT_UDP_PORT | ARES_OPT_TCP_PORT |
             (opts_.rotate ? ARES_OPT_ROTATE : ARES_OPT_NOROTATE);
  ao.flags = ARES_FLAG_NOALIASES;  // HOSTALIASES is an environment variable: not here
  if (opts_.edns0) {
    ao.flags |= ARES_FLAG_EDNS;
    ao.ednspsz = std::max<int>(opts_.edns_size, 512);
    mask |= ARES_OPT_EDNSPSZ;
  }
  if (opts_.use_vc) ao.flags |= ARES_FLAG_USEVC;
  if (opts_.stay_open) ao.flags |= ARES_FLAG_STAYOPEN;
  ao.timeout = static_cast<int>(opts_.timeout.count());
  ao.tries = opts_.attempts;
  ao.ndots = opts_.ndots;
  ao.domains = domains.data();
  ao.ndomains = static_cast<int>(domains.size());
  char lookups[] = "b";  // DNS only: the hosts file is resolve_sockaddr's business
  ao.lookups = lookups;
  ao.nservers = 0;       // note 1: set below, with ports
  ao.nsort = 0;
  ao.udp_port = 53;
  ao.tcp_port = 53;
  ao.sock_state_cb = on_sock_state;
  ao.sock_state_cb_data = this;
  if (const int rc = ares_init_options(&ch_, &ao, mask); rc != ARES_SUCCESS)
    throw ae::error(std::make_error_code(std::errc::not_enough_memory),
                    std::string("ae::dns::resolver: ") + ares_strerror(rc));
  ares_set_socket_functions(ch_, &socket_functions, this);
  if (const int rc = ares_set_servers_ports(ch_, nodes.data()); rc != ARES_SUCCESS) {
    ares_destroy(ch_);
    ch_ = nullptr;
    throw ae::error(std::make_error_code(std::errc::invalid_argument),
                    std::string("ae::dns::resolver: ") + ares_strerror(rc));
  }
}

dns_resolver::~dns_resolver() { shutdown(); }

std::size_t dns_resolver::queued() const noexcept {
  std::size_t n = 0;
  for (const auto& [id, q] : queries_)
    if (q->st == dns_query::state::queued) ++n;
  return n;
}

guard dns_resolver::submit(std::string_view name, dns::rr_type type, bool search, dns_done done) {
  if (closed_) throw ae::error(std::make_error_code(std::errc::operation_canceled),
                               "ae::dns: query on a destroyed resolver");
  auto q = std::make_unique<dns_query>();
  q->id = next_id_++;
  q->owner = this;
  q->type = static_cast<std::uint16_t>(type);
  q->search = search;
  q->done = std::move(done);
  const std::uint64_t id = q->id;
  if (auto ec = dns_query_name(name, q->name)) {
    q->st = dns_query::state::done;  // delivered from the loop: never before we return
    q->ec = ec;
    completed_.push_back(id);
  } else {
    queue_.push_back(id);
  }
  queries_.emplace(id, std::move(q));
  if (!pumping_) {  // inside pump(), its loop submits and delivers
    submit_ready();   // inside ares_process_fd() too: the socket stays open (note 8)
    if (!processing_) {  // otherwise process() delivers and rearms when c-ares returns
      if (!completed_.empty()) schedule_kick();
      rearm_timer();
    }
  }
  return guard([w = weak_from_this(), id] {
    if (auto self = w.lock()) self->cancel(id);
  });
}

void dns_resolver::cancel(std::uint64_t id) noexcept {
  if (closed_) return;
  const auto it = queries_.find(id);
  if (it == queries_.end()) return;
  if (it->second->st == dns_query::state::sent) {  // note 2
    it->second->st = dns_query::state::cancelled;
    auto drop = std::move(it->second->done);  // the user's captures go now, after the lookup
    return;
  }
  auto node = queries_.extract(it);  // queue_/completed_ skip the id from now on
}

void dns_resolver::submit_ready() noexcept {
  while (!closed_ && in_flight_ < opts_.max_outstanding && !queue_.empty()) {
    const std::uint64_t id = queue_.front();
    queue_.pop_front();
    const auto it = queries_.find(id);
    if (it == queries_.end()) continue;
    dns_query* q = it->second.get();
    q->st = dns_query::state::sent;
    ++in_flight_;  // before the call: c-ares may answer synchronously (note 3)
    const bool outer = submitting_;
    submitting_ = true;
    if (q->search)
      ares_search(ch_, q->name.c_str(), 1 /* IN */, q->type, on_answer, q);
    else
      ares_query(ch_, q->name.c_str(), 1 /* IN */, q->type, on_answer, q);
    submitting_ = outer;
  }
}

void dns_resolver::finish(dns_query* q, int status, const unsigned char* abuf, int alen) noexcept {
  --in_flight_;
  // ares_destroy() calling back, or the resolver was destroyed by a callback of this batch:
  // release_channel() frees the queries once c-ares let go of them (note 3).
  if (closed_) return;
  const bool inside = processing_ && !submitting_;
  if (q->st == dns_query::state::cancelled) {
    queries_.erase(q->id);
  } else {
    q->st = dns_query::state::done;
    q->ec = map_status(status);
    if (!q->ec) {
      try {
        if (!abuf || alen <= 0 ||
            !parse_dns_message({abuf, static_cast<std::size_t>(alen)}, q->result))
          q->ec = std::make_error_code(std::errc::bad_message);
      } catch (const std::bad_alloc&) {
        q->ec = std::make_error_code(std::errc::not_enough_memory);
      }
    }
    if (inside && !thrown_) {
      deliver_now(q->id);
    } else {
      try {
        completed_.push_back(q->id);
      } catch (...) {
        queries_.erase(q->id);  // cannot record it: drop it rather than lose track
        log::write(log::level::error, "ae::dns: out of memory; a query was dropped");
      }
    }
  }
  // The slot is free: give it to a waiting query while c-ares still holds the socket.
  if (inside && !closed_) submit_ready();
}

void dns_resolver::deliver_now(std::uint64_t id) noexcept {
  auto node = queries_.extract(id);
  if (node.empty()) return;
  const std::unique_ptr<dns_query> q = std::move(node.mapped());
  auto cb = std::move(q->done);
  try {
    cb(q->ec, std::move(q->result));
  } catch (...) {
    thrown_ = std::current_exception();  // note 9
  }
}

void dns_resolver::process(ares_socket_t read_fd, ares_socket_t write_fd) {
  if (closed_) return;
  const auto keep = shared_from_this();  // a callback may destroy the resolver
  processing_ = true;
  ares_process_fd(ch_, read_fd, write_fd);
  processing_ = false;
  std::exception_ptr e = std::exchange(thrown_, nullptr);
  if (closed_) {
    release_channel();  // destroyed by a callback in there (note 3)
  } else if (e) {
    if (!completed_.empty()) schedule_kick();  // the rest of the batch, on the next run
    rearm_timer();
  } else {
    pump();
  }
  if (e) std::rethrow_exception(e);
}

void dns_resolver::pump() {
  if (pumping_ || closed_) return;
  const auto keep = shared_from_this();  // a callback may destroy the resolver
  pumping_ = true;
  struct reset {
    dns_resolver* r;
    ~reset() {
      if (r->closed_) return;
      r->pumping_ = false;
      if (!r->completed_.empty()) r->schedule_kick();  // a callback threw: go on later
      r->rearm_timer();
    }
  } on_exit{this};
  for (;;) {
    submit_ready();
    if (closed_ || completed_.empty()) break;
    const std::uint64_t id = completed_.front();
    completed_.pop_front();
    auto node = queries_.extract(id);
    if (node.empty()) continue;
    const std::unique_ptr<dns_query> q = std::move(node.mapped());
    auto cb = std::move(q->done);
    cb(q->ec, std::move(q->result));
    if (closed_) break;
  }
}

void dns_resolver::rearm_timer() noexcept {
  if (closed_) return;
  timeval tv{};
  if (!ares_timeout(ch_, nullptr, &tv)) {
    timer_.stop();
    return;
  }
  const auto d = std::chrono::seconds(tv.tv_sec) + std::chrono::microseconds(tv.tv_usec);
  const time_point deadline = loop_.now() + std::chrono::duration_cast<duration>(d);
  // An earlier timer may stay: firing early only makes c-ares look and ask again.
  if (timer_.active() && timer_deadline_ <= deadline) return;
  try {
    timer_ = timer(d, [this] { on_timeout(); }, loop_);
    timer_deadline_ = deadline;
  } catch (const std::exception& e) {
    log::write(log::level::error, std::string("ae::dns: cannot start a timer: ") + e.what());
  }
}

void dns_resolver::schedule_kick() noexcept {
  if (kick_.active() || closed_) return;
  try {
    kick_ = timer(std::chrono::seconds(0), [this] { pump(); }, loop_);
  } catch (const std::exception& e) {
    log::write(log::level::error, std::string("ae::dns: cannot start a timer: ") + e.what());
  }
}

void dns_resolver::on_ready(int fd, poll ev) {
  process(any(ev & poll::read) ? fd : ARES_SOCKET_BAD,
          any(ev & poll::write) ? fd : ARES_SOCKET_BAD);
}

void dns_resolver::on_timeout() { process(ARES_SOCKET_BAD, ARES_SOCKET_BAD); }

void dns_resolver::watch(int fd, bool readable, bool writable) noexcept {
  const poll mask = readable && writable ? poll::both : readable ? poll::read : poll::write;
  auto it = std::find_if(sockets_.begin(), sockets_.end(),
                         [fd](const socket_watch& s) { return s.fd == fd; });
  if (!readable && !writable) {
    if (it != sockets_.end()) sockets_.erase(it);
    return;
  }
  if (closed_ || (it != sockets_.end() && it->mask == mask)) return;
  try {
    io w(fd, mask, [this, fd](poll ev) { on_ready(fd, ev); }, loop_);
    if (it != sockets_.end()) {
      it->mask = mask;
      it->watcher = std::move(w);
    } else {
      sockets_.push_back({fd, mask, std::move(w)});
    }
  } catch (const std::exception& e) {
    // The query on this socket will time out through c-ares' own timer.
    log::write(log::level::error, std::string("ae::dns: cannot watch a socket: ") + e.what());
  }
}

void dns_resolver::forget(int fd) noexcept {
  std::erase_if(sockets_, [fd](const socket_watch& s) { return s.fd == fd; });
}

void dns_resolver::shutdown() noexcept {
  if (closed_) return;
  closed_ = true;
  timer_.stop();
  kick_.stop();
  queue_.clear();
  completed_.clear();
  if (!processing_) {
    release_channel();
    return;
  }
  // Inside ares_process_fd(): c-ares still points at the queries, and ares_destroy() must
  // wait (note 3). The callbacks go now, as they would with the channel; their destructors
  // may destroy guards of this resolver, which see closed_ and leave queries_ alone.
  for (auto& [id, q] : queries_) auto drop = std::move(q->done);
}

void dns_resolver::release_channel() noexcept {
  if (ch_) {
    ares_destroy(ch_);  // calls finish() for every query on the wire; closes its sockets
    ch_ = nullptr;
  }
  sockets_.clear();
  // Callbacks die last, outside any container operation: their destructors may destroy
  // guards of this resolver, and cancel() sees closed_.
  auto doomed = std::move(queries_);
  queries_.clear();
  doomed.clear();
}

}  // namespace ae::detail
