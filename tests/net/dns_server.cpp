// dnsmasq and a hand-driven fake server for the DNS tests (see dns_server.hpp).
#include "dns_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace dns_test {

bool run_until(ae::loop& l, const std::function<bool()>& done, std::chrono::milliseconds limit) {
  bool expired = false;
  ae::timer t(limit, [&] { expired = true; }, l);
  while (!done() && !expired) l.run_once();
  return done();
}

std::vector<std::string> standard_records() {
  return {
      "--local=/test/",  // unknown names under .test: NXDOMAIN
      "--address=/a.test/127.0.0.2",
      "--host-record=h.test,127.0.0.3,::3",
      "--host-record=m2.test,127.0.0.5",
      "--host-record=m2.test,127.0.0.6",
      "--mx-host=m.test,mx10.m.test,10",
      "--mx-host=m.test,mx5.m.test,5",
      "--mx-host=m.test,mx20.m.test,20",
      "--txt-record=t.test,hello world,two",
      "--txt-record=t2.test,single",
      "--srv-host=_sip._udp.s.test,p10a.s.test,5060,10,90",
      "--srv-host=_sip._udp.s.test,p10b.s.test,5061,10,10",
      "--srv-host=_sip._udp.s.test,p5.s.test,5062,5,0",
      "--srv-host=_sip._udp.s.test,p20.s.test,5063,20,0",
      "--srv-host=_zero._tcp.s.test,z0.s.test,1,1,0",
      "--srv-host=_zero._tcp.s.test,z100.s.test,2,1,100",
      "--ptr-record=3.0.0.127.in-addr.arpa,h.test",
      "--ptr-record=3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa,h6.test",
      "--cname=c.test,h.test",
      "--address=/xn--bcher-kva.test/127.0.0.9",
      // 4 strings of 200 bytes: more than 512 bytes, so plain UDP answers are truncated.
      "--txt-record=big.test," + std::string(200, 'x') + "," + std::string(200, 'y') + "," +
          std::string(200, 'z') + "," + std::string(200, 'w'),
  };
}

namespace {

std::string loopback_server(std::uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

/// A port free for both UDP and TCP on 127.0.0.1 right now.
std::uint16_t free_port() {
  for (int attempt = 0; attempt < 50; ++attempt) {
    ae::fd u(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    ae::fd t(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    if (::bind(u.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) continue;
    if (::getsockname(u.get(), reinterpret_cast<sockaddr*>(&sa), &len) != 0) continue;
    if (::bind(t.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) continue;
    return ntohs(sa.sin_port);
  }
  throw std::runtime_error("no free port");
}

std::vector<std::uint8_t> probe_query() {
  std::vector<std::uint8_t> q = {0x42, 0x42, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  for (const char* label : {"probe", "test"}) {
    q.push_back(static_cast<std::uint8_t>(std::strlen(label)));
    q.insert(q.end(), label, label + std::strlen(label));
  }
  q.insert(q.end(), {0, 0, 1, 0, 1});
  return q;
}

/// Whether something answers DNS on 127.0.0.1:port within `ms`.
bool answers(std::uint16_t port, int ms) {
  ae::fd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const auto q = probe_query();
  if (::sendto(s.get(), q.data(), q.size(), 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0)
    return false;
  pollfd p{s.get(), POLLIN, 0};
  if (::poll(&p, 1, ms) != 1) return false;
  std::uint8_t buf[512];
  return ::recv(s.get(), buf, sizeof buf, 0) > 0;
}

bool exited(pid_t pid) {
  int status;
  const pid_t r = ::waitpid(pid, &status, WNOHANG);
  return r == pid || (r < 0 && errno == ECHILD);
}

}  // namespace

dnsmasq::dnsmasq(std::vector<std::string> records) {
  for (int attempt = 0; attempt < 10; ++attempt) {
    port_ = free_port();
    std::vector<std::string> args = {
        "/usr/sbin/dnsmasq", "--no-resolv", "--no-hosts", "--no-daemon", "--keep-in-foreground",
        "--conf-file=/dev/null", "--port=" + std::to_string(port_),
        "--listen-address=127.0.0.1", "--bind-interfaces", "--pid-file", "--user=root",
        "--log-facility=-", "--cache-size=0"};
    if (std::getenv("AE_TEST_DNSMASQ_LOG")) args.emplace_back("--log-queries");
    args.insert(args.end(), records.begin(), records.end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (!std::getenv("AE_TEST_DNSMASQ_LOG")) {
      posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
      posix_spawn_file_actions_adddup2(&fa, 1, 2);
    }
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    for (int s : {SIGTERM, SIGINT, SIGCHLD, SIGPIPE, SIGHUP}) sigaddset(&defaults, s);
    posix_spawnattr_setsigmask(&attr, &none);  // the loop may block signals; dnsmasq must not
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    const int rc = ::posix_spawn(&pid_, argv[0], &fa, &attr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0) throw std::runtime_error(std::string("posix_spawn dnsmasq: ") + std::strerror(rc));

    for (int i = 0; i < 200; ++i) {
      if (answers(port_, 50)) return;
      if (exited(pid_)) break;  // the port was taken after all: try another
    }
    stop();
  }
  throw std::runtime_error("dnsmasq did not start");
}

dnsmasq::~dnsmasq() { stop(); }

std::string dnsmasq::server() const { return loopback_server(port_); }

void dnsmasq::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 500; ++i) {
    if (exited(pid_)) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  int status;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

fake_dns::fake_dns() : fd_(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof sa;
  if (!fd_ || ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
      ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&sa), &len) != 0)
    throw std::runtime_error("fake_dns: cannot bind");
  port_ = ntohs(sa.sin_port);
}

std::string fake_dns::server() const { return loopback_server(port_); }

std::optional<datagram> fake_dns::receive() {
  datagram d;
  d.bytes.resize(65536);
  d.from.resize(sizeof(sockaddr_storage));
  socklen_t len = static_cast<socklen_t>(d.from.size());
  const ssize_t n = ::recvfrom(fd_.get(), d.bytes.data(), d.bytes.size(), 0,
                               reinterpret_cast<sockaddr*>(d.from.data()), &len);
  if (n < 0) return std::nullopt;
  d.bytes.resize(static_cast<std::size_t>(n));
  d.from.resize(len);
  return d;
}

void fake_dns::send(const datagram& to, const std::vector<std::uint8_t>& reply) {
  ::sendto(fd_.get(), reply.data(), reply.size(), 0,
           reinterpret_cast<const sockaddr*>(to.from.data()), static_cast<socklen_t>(to.from.size()));
}

std::string query_name(const std::vector<std::uint8_t>& q) {
  std::string out;
  std::size_t i = 12;
  while (i < q.size() && q[i] != 0) {
    const std::size_t len = q[i];
    if (len > 63 || i + 1 + len > q.size()) return {};
    if (!out.empty()) out += '.';
    out.append(reinterpret_cast<const char*>(q.data()) + i + 1, len);
    i += 1 + len;
  }
  return out;
}

std::vector<std::uint8_t> make_reply(
    const std::vector<std::uint8_t>& query, int rcode,
    const std::vector<std::pair<std::uint16_t, std::vector<std::uint8_t>>>& answers) {
  // Header and question as asked (c-ares checks both), then the answers.
  std::size_t end = 12;
  while (end < query.size() && query[end] != 0) end += 1 + query[end];
  end += 5;  // zero octet, type, class
  std::vector<std::uint8_t> r(query.begin(), query.begin() + static_cast<long>(std::min(end, query.size())));
  r[2] = static_cast<std::uint8_t>(0x80 | (query[2] & 0x01) | 0x04);  // QR, AA, RD echoed
  r[3] = static_cast<std::uint8_t>(0x80 | (rcode & 0x0f));           // RA, rcode
  r[6] = static_cast<std::uint8_t>(answers.size() >> 8);
  r[7] = static_cast<std::uint8_t>(answers.size());
  r[8] = r[9] = r[10] = r[11] = 0;  // no authority, no additional (drops an OPT we were sent)
  for (const auto& [type, rdata] : answers) {
    r.insert(r.end(), {0xC0, 0x0C, static_cast<std::uint8_t>(type >> 8),
                       static_cast<std::uint8_t>(type), 0, 1, 0, 0, 0, 60,
                       static_cast<std::uint8_t>(rdata.size() >> 8),
                       static_cast<std::uint8_t>(rdata.size())});
    r.insert(r.end(), rdata.begin(), rdata.end());
  }
  return r;
}

std::vector<std::uint8_t> wire_name(const std::vector<std::string>& labels) {
  std::vector<std::uint8_t> out;
  for (const auto& l : labels) {
    out.push_back(static_cast<std::uint8_t>(l.size()));
    out.insert(out.end(), l.begin(), l.end());
  }
  out.push_back(0);
  return out;
}

}  // namespace dns_test
