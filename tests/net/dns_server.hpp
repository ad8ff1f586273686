// Real and fake DNS servers for the ae::dns tests and benchmark.
//
// dnsmasq: a real server on 127.0.0.1 and a free port, with records from its command line,
// killed and reaped when the object goes. fake_dns: a UDP socket the test answers by hand,
// to see exactly what the resolver sends and to send back what no real server would.
#pragma once

#include <anyevent/fd.hpp>
#include <anyevent/loop.hpp>
#include <anyevent/timer.hpp>

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace dns_test {

/// What a callback was given, and how often it ran.
template <class T>
struct outcome {
  int calls = 0;
  std::error_code ec;
  T value{};
  bool done() const { return calls > 0; }
};
template <class T>
auto capture(outcome<T>& o) {
  return [&o](std::error_code ec, T v) {
    ++o.calls;
    o.ec = ec;
    o.value = std::move(v);
  };
}

/// Runs `l` until `done()` or until `limit` passed (then returns false).
bool run_until(ae::loop& l, const std::function<bool()>& done,
               std::chrono::milliseconds limit = std::chrono::seconds(20));

/// The records every test server carries (see dns_server.cpp for the list).
std::vector<std::string> standard_records();

class dnsmasq {
 public:
  /// Starts dnsmasq with `records` (dnsmasq options such as "--host-record=h.test,1.2.3.4")
  /// and waits until it answers. Throws std::runtime_error if it cannot be started.
  explicit dnsmasq(std::vector<std::string> records = standard_records());
  ~dnsmasq();
  dnsmasq(const dnsmasq&) = delete;
  dnsmasq& operator=(const dnsmasq&) = delete;

  std::uint16_t port() const { return port_; }
  /// "127.0.0.1:<port>", for ae::dns::options::servers.
  std::string server() const;
  pid_t pid() const { return pid_; }

 private:
  void stop();
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

/// One query read by a fake server.
struct datagram {
  std::vector<std::uint8_t> bytes;
  std::vector<std::uint8_t> from;  // the peer's sockaddr
};

class fake_dns {
 public:
  fake_dns();  // a UDP socket bound to 127.0.0.1, port 0
  std::uint16_t port() const { return port_; }
  std::string server() const;
  int fd() const { return fd_.get(); }
  /// The next waiting datagram, if any (never blocks).
  std::optional<datagram> receive();
  void send(const datagram& to, const std::vector<std::uint8_t>& reply);

 private:
  ae::fd fd_;
  std::uint16_t port_ = 0;
};

/// The query's name in dotted form ("q1.test"), or "" if it does not parse.
std::string query_name(const std::vector<std::uint8_t>& query);

/// A reply to `query` with `rcode` and answers given as {type, rdata}, each owned by the
/// question's name (a compression pointer to offset 12).
std::vector<std::uint8_t> make_reply(const std::vector<std::uint8_t>& query, int rcode,
                                     const std::vector<std::pair<std::uint16_t,
                                                                 std::vector<std::uint8_t>>>& answers);
/// A name in wire form, labels given raw (so they may hold dots or NULs).
std::vector<std::uint8_t> wire_name(const std::vector<std::string>& labels);

}  // namespace dns_test
