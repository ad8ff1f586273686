// Private parts of ae::dns shared by its translation units: the wire-format parser, name
// checks, answer selection and the c-ares driver.
#pragma once

#include <anyevent/dns.hpp>
#include <anyevent/io.hpp>
#include <anyevent/timer.hpp>

#include <ares.h>

#include <cstdint>
#include <deque>
#include <exception>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <unordered_map>
#include <vector>

namespace ae::detail {

// ---- dns_message.cpp: answers, through the checked reader ----

struct dns_response {
  std::string qname;                  // the question's name, as the server echoed it
  std::vector<dns::record> answers;   // the answer section, in wire order
};

/// Parses a DNS message; false for anything malformed (truncated, looping compression,
/// names over 255 bytes, rdata that does not match its length).
bool parse_dns_message(std::span<const unsigned char> msg, dns_response& out);

/// Case-insensitive (ASCII) equality of two names in text form.
bool dns_name_equal(std::string_view a, std::string_view b) noexcept;

/// The records of type `want` that answer `qname`, following the CNAME chain inside the
/// answer (at most 16 links). For rr_type::cname, only the CNAMEs of `qname` itself.
std::vector<const dns::record*> dns_select(const dns_response& r, dns::rr_type want);

/// Orders SRV records by priority, then by RFC 2782 weighted random selection.
void dns_srv_order(std::vector<dns::srv_record>& v);

// ---- dns_names.cpp ----

/// Checks a name to be queried and converts it to ASCII (IDNA 2008 when it has non-ASCII
/// bytes). Errors: EINVAL, ENAMETOOLONG.
std::error_code dns_query_name(std::string_view in, std::string& out);

/// "4.3.2.1.in-addr.arpa." / nibbles + "ip6.arpa." for an address, empty if `ip` is none.
std::string dns_reverse_name(std::string_view ip);

// ---- dns_conf.cpp ----

/// A server in text form ("1.2.3.4", "1.2.3.4:53", "::1", "[::1]:53") as a c-ares node.
bool parse_server(std::string_view s, ares_addr_port_node& out);

// ---- dns_resolver.cpp: the c-ares driver ----

using dns_done = unique_function<void(std::error_code, dns_response&&)>;

struct dns_query;

class dns_resolver : public std::enable_shared_from_this<dns_resolver> {
 public:
  dns_resolver(dns::options o, loop& l);
  ~dns_resolver();
  dns_resolver(const dns_resolver&) = delete;
  dns_resolver& operator=(const dns_resolver&) = delete;

  /// Queues a query (search: apply the search list). `done` runs once from the loop.
  guard submit(std::string_view name, dns::rr_type type, bool search, dns_done done);
  /// Cancels every query without calling back and releases c-ares (once ares_process_fd()
  /// returned, when called from a callback inside it). Idempotent.
  void shutdown() noexcept;

  std::size_t in_flight() const noexcept { return in_flight_; }
  std::size_t queued() const noexcept;
  const dns::options& config() const noexcept { return opts_; }

  // Called by the c-ares trampolines.
  void finish(dns_query* q, int status, const unsigned char* abuf, int alen) noexcept;
  void watch(int fd, bool readable, bool writable) noexcept;
  void forget(int fd) noexcept;

 private:
  struct socket_watch {
    int fd;
    poll mask;
    io watcher;
  };

  void cancel(std::uint64_t id) noexcept;
  void submit_ready() noexcept;
  void deliver_now(std::uint64_t id) noexcept;
  void process(ares_socket_t read_fd, ares_socket_t write_fd);
  void release_channel() noexcept;
  void pump();
  void rearm_timer() noexcept;
  void schedule_kick() noexcept;
  void on_ready(int fd, poll ev);
  void on_timeout();

  dns::options opts_;
  loop loop_;
  ares_channel ch_ = nullptr;
  std::uint64_t next_id_ = 1;
  std::unordered_map<std::uint64_t, std::unique_ptr<dns_query>> queries_;
  std::deque<std::uint64_t> queue_;      // waiting for a slot, FIFO (stale ids are skipped)
  std::deque<std::uint64_t> completed_;  // answered, callback not yet run
  std::size_t in_flight_ = 0;
  std::vector<socket_watch> sockets_;
  timer timer_;                           // follows ares_timeout()
  time_point timer_deadline_{};
  timer kick_;                            // delivers completed_ (synchronous answers, and
                                          // the rest of a batch after a callback threw)
  bool pumping_ = false;
  bool processing_ = false;               // inside ares_process_fd()
  bool submitting_ = false;               // inside ares_search() / ares_query()
  std::exception_ptr thrown_;             // by a callback run inside ares_process_fd()
  bool closed_ = false;
};

}  // namespace ae::detail
