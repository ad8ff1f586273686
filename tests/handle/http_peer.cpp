// A real peer: Python's http.server, started here on an ephemeral port (learnt from the line
// it prints on stdout, read through an ae::handle over the pipe), serves a file of known
// bytes; a connecting handle sends a GET, reads the header with line("\r\n\r\n"), the body
// with chunk(Content-Length), and sees the server close afterwards.
#include "support.hpp"

#include <regex>

#include <spawn.h>
#include <sys/wait.h>

#include <fstream>
#include <optional>

extern char** environ;

using namespace handle_test;

namespace {
/// `python3 -u -m http.server --bind 127.0.0.1 0 --directory dir`, stdout on a pipe, stderr
/// (its request log) to /dev/null. Stopped (SIGTERM, then SIGKILL) and reaped, in bounded
/// time, when it goes out of scope.
class http_server {
 public:
  explicit http_server(const std::string& dir) {
    int p[2];
    REQUIRE(::pipe2(p, O_CLOEXEC) == 0);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);  // dup2 leaves the copy inheritable
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    const char* argv[] = {"python3", "-u", "-m", "http.server", "--bind", "127.0.0.1", "0",
                          "--directory", dir.c_str(), nullptr};
    const int rc = ::posix_spawnp(&pid_, "python3", &fa, &attr, const_cast<char**>(argv), environ);
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    ::close(p[1]);
    out_.reset(p[0]);
    if (rc != 0) pid_ = -1;
    REQUIRE(rc == 0);
  }
  ~http_server() { stop(); }
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// Its stdout (the read end of the pipe), to hand to a handle.
  ae::fd take_stdout() { return std::move(out_); }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 300; ++i) {  // up to 3 s
      int st;
      const pid_t r = ::waitpid(pid_, &st, WNOHANG);
      if (r == pid_ || (r < 0 && errno != EINTR)) {
        pid_ = -1;
        return;
      }
      ::usleep(10000);
    }
    ::kill(pid_, SIGKILL);
    while (::waitpid(pid_, nullptr, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
  ae::fd out_;
};

/// The port from "Serving HTTP on 127.0.0.1 port N (http://127.0.0.1:N/) ...".
std::uint16_t port_from_banner(http_server& srv) {
  std::optional<std::string> banner;
  recorder rec;
  auto out = ae::handle::create({.fd = srv.take_stdout(), .on_error = rec.on_error()});
  out->push_read(ae::line(), [&](ae::handle&, std::string_view l) { banner = std::string(l); });
  REQUIRE(run_until([&] { return banner.has_value() || !rec.errors.empty(); }, 30s));
  REQUIRE(banner.has_value());
  INFO("banner: " << *banner);
  std::smatch m;
  REQUIRE(std::regex_search(*banner, m, std::regex("^Serving HTTP on 127\\.0\\.0\\.1 port ([0-9]+) ")));
  const int port = std::stoi(m[1].str());
  REQUIRE(port > 0);
  REQUIRE(port < 65536);
  return static_cast<std::uint16_t>(port);
}

struct response {
  std::string status_line, header, body;
  std::size_t content_length = 0;
  bool complete = false, eof = false;
  std::string leftover;
  std::vector<std::string> errors;
};

/// GET `path` from 127.0.0.1:port with one handle, as handle.hpp's example does.
void get(std::uint16_t port, const std::string& path, response& r) {
  auto h = ae::handle::create(
      {.connect = {"127.0.0.1", std::to_string(port)},
       .on_error = [&](ae::handle&, bool fatal, std::error_code ec,
                       std::string_view m) { r.errors.push_back((fatal ? "fatal " : "") + ec.message() + ": " + std::string(m)); },
       .on_read =
           [&](ae::handle& hh) {
             r.leftover += hh.rbuf().view();  // nothing is expected past the body
             hh.rbuf().consume(hh.rbuf().size());
           },
       .on_eof = [&](ae::handle&) { r.eof = true; }});
  h->push_write("GET " + path + " HTTP/1.0\r\n\r\n");
  h->push_read(ae::line("\r\n\r\n"), [&](ae::handle& hh, std::string_view head) {
    r.header = head;
    r.status_line = head.substr(0, head.find("\r\n"));
    std::smatch m;
    const std::string hs(head);
    if (!std::regex_search(hs, m, std::regex("\r\ncontent-length: *([0-9]+)", std::regex::icase))) {
      r.errors.push_back("no Content-Length");
      return;
    }
    r.content_length = std::stoul(m[1].str());
    hh.push_read(ae::chunk(r.content_length), [&](ae::handle&, std::string_view body) {
      r.body = body;
      r.complete = true;
    });
  });
  REQUIRE(run_until([&] { return (r.complete && r.eof) || !r.errors.empty(); }, 30s));
}
}  // namespace

TEST_CASE("handle/http_peer/python_http_server") {
  temp_dir dir;
  std::string content = "known content\r\n\r\nwith a blank line inside\n" + pattern(700 * 1024 + 17, 23);
  {
    std::ofstream f(dir / "file.bin", std::ios::binary);
    f.write(content.data(), static_cast<std::streamsize>(content.size()));
    REQUIRE(f.good());
  }
  http_server srv(dir.path());
  const std::uint16_t port = port_from_banner(srv);

  response ok;
  get(port, "/file.bin", ok);
  CHECK(ok.errors.empty());
  CHECK(ok.status_line.rfind("HTTP/1.0 200", 0) == 0);
  CHECK(ok.content_length == content.size());
  CHECK(ok.body.size() == content.size());
  CHECK(ok.body == content);
  CHECK(ok.leftover.empty());
  CHECK(ok.eof);  // HTTP/1.0: the server closes after the body

  response missing;
  get(port, "/no-such-file", missing);
  CHECK(missing.errors.empty());
  CHECK(missing.status_line.rfind("HTTP/1.0 404", 0) == 0);
  CHECK(missing.body.size() == missing.content_length);
  CHECK(missing.eof);
  srv.stop();
}
