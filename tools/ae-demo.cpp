// ae-demo: one tour of the watcher API on whichever backend ANYEVENT_BACKEND selects —
// an interval timer, a pipe echo, a signal and a child process, then a TCP server that
// answers lines in upper case and three clients talking to it at once, all on one loop.
#include <anyevent/anyevent.hpp>
#include <anyevent/socket.hpp>

#include <algorithm>
#include <cctype>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <list>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace std::chrono_literals;

namespace {
// Appends what `fd` has to `buf`; false once the peer has closed (or on an error).
bool read_some(int fd, std::string& buf) {
  char chunk[256];
  const ssize_t n = ::read(fd, chunk, sizeof chunk);
  if (n > 0) buf.append(chunk, static_cast<std::size_t>(n));
  return n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR));
}
// A line this short always fits an empty socket buffer; a bulk sender would keep the rest
// and wait for ae::poll::write (see ae-nc).
void send_line(int fd, const std::string& line) { (void)!::send(fd, line.data(), line.size(), MSG_NOSIGNAL); }
}  // namespace

int main(int argc, char** argv) {
  if (argc > 1) {
    std::puts("usage: ae-demo\nRuns timers, a pipe echo, a signal, a child process and a TCP server with\n"
              "three clients on the backend ANYEVENT_BACKEND selects (default: the built-in\n"
              "loop), and prints what happens.");
    return std::strcmp(argv[1], "--help") == 0 ? 0 : 2;
  }
  try {
    auto& loop = ae::default_loop();
    std::printf("backend: %.*s\n", static_cast<int>(loop.backend().size()), loop.backend().data());
    ae::condvar<> done;

    int ticks = 0;
    ae::timer tick(0s, 50ms, [&] { std::printf("tick %d\n", ++ticks); });

    int fds[2];
    if (::pipe(fds) < 0) throw std::system_error(errno, std::generic_category(), "pipe");
    ae::fd rd(fds[0]), wr(fds[1]);
    ae::io echo(rd.get(), ae::poll::read, [&] {
      char buf[64];
      const ssize_t n = ::read(rd.get(), buf, sizeof buf);
      if (n > 0) std::printf("pipe: %.*s\n", static_cast<int>(n), buf);
    });
    ae::timer say(20ms, [&] { (void)!::write(wr.get(), "hello through a pipe", 20); });

    ae::signal usr1(SIGUSR1, [&] { std::puts("signal: SIGUSR1 delivered in loop context"); });
    ae::timer raise_it(40ms, [] { ::kill(::getpid(), SIGUSR1); });

    const pid_t pid = ::fork();
    if (pid == 0) {
      ::usleep(100'000);
      ::_exit(7);
    }
    ae::child kid(pid, [&](pid_t p, int status) {
      std::printf("child %d exited with status %d\n", static_cast<int>(p), WEXITSTATUS(status));
      tick.stop();
      done.send();
    });
    done.recv();
    std::printf("done after %d ticks\n", ticks);

    // The network part: a server on an ephemeral port, one session per connection.
    struct session { ae::fd sock; ae::io reader; std::string in; };
    std::list<session> sessions;  // stable addresses for the callbacks
    std::uint16_t port = 0;
    ae::guard server = ae::tcp_server("127.0.0.1", "0", [&](ae::fd sock, std::string, std::uint16_t) {
      session& s = sessions.emplace_back();
      s.sock = std::move(sock);
      s.reader = ae::io(s.sock.get(), ae::poll::read, [&s] {
        if (!read_some(s.sock.get(), s.in)) {  // the client hung up
          s.reader.stop();
          s.sock.reset();
          return;
        }
        for (auto nl = s.in.find('\n'); nl != std::string::npos; nl = s.in.find('\n')) {
          std::string line = s.in.substr(0, nl + 1);
          s.in.erase(0, nl + 1);
          std::transform(line.begin(), line.end(), line.begin(), [](unsigned char c) { return std::toupper(c); });
          send_line(s.sock.get(), line);
        }
      });
    }, [&](int, std::string, std::uint16_t p) { port = p; return 0; });
    std::printf("server: listening on 127.0.0.1:%u\n", static_cast<unsigned>(port));

    // Three clients at once; the condvar's group (begin/end) is sent when the last one ends.
    struct client { ae::guard connecting; ae::fd sock; ae::io reader; std::string in; };
    client clients[3];
    ae::condvar<> replies;
    ae::timer watchdog(10s, [&] { replies.croak("no replies after 10 s"); });  // never hang
    for (int i = 0; i < 3; ++i) {
      client& c = clients[i];
      replies.begin();
      c.connecting = ae::tcp_connect("127.0.0.1", std::to_string(port), [&c, &replies, i](std::error_code ec, ae::fd sock) {
        if (ec) return replies.croak("client " + std::to_string(i) + ": " + ec.message());
        c.sock = std::move(sock);
        send_line(c.sock.get(), "hello from client " + std::to_string(i) + "\n");
        c.reader = ae::io(c.sock.get(), ae::poll::read, [&c, &replies, i] {
          if (!read_some(c.sock.get(), c.in)) return replies.croak("client " + std::to_string(i) + ": no reply");
          if (c.in.find('\n') == std::string::npos) return;  // not a whole line yet
          std::printf("client %d got: %s", i, c.in.c_str());
          c.reader.stop();
          c.sock = {};  // closes: the server's session sees EOF
          replies.end();
        });
      });
    }
    replies.recv();
    std::printf("server: %zu connections served\n", sessions.size());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ae-demo: %s\n", e.what());
    return 1;
  }
}
