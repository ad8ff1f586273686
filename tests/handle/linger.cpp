// linger: a handle destroyed (or dropped) with unwritten data keeps writing it in the
// background, then closes; linger 0 drops the data and closes at once; the linger time is a
// limit after which the descriptor is closed whatever is left.
#include "support.hpp"

#include <poll.h>

using namespace handle_test;

namespace {
/// The peer's end was closed (POLLHUP on an AF_UNIX stream), without reading anything.
bool hung_up(int fd) {
  pollfd pfd{fd, POLLIN, 0};
  return ::poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLHUP) != 0;
}

ae::fd small_sndbuf(ae::fd f) {
  int small = 16 * 1024;
  REQUIRE(::setsockopt(f.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small) == 0);
  return f;
}
}  // namespace

TEST_CASE("handle/linger/destroy_with_unwritten_data") {
  auto p = make_socketpair();
  recorder rec;
  auto h = ae::handle::create({.fd = small_sndbuf(std::move(p.a)), .on_error = rec.on_error()});
  const std::string data = pattern(2 * 1024 * 1024, 14);
  h->push_write(data);
  run_for(20ms);
  REQUIRE(h->wbuf_size() > 0);  // the peer has read nothing: most of it is still ours
  h->destroy();
  CHECK(h->destroyed());
  h.reset();
  CHECK_FALSE(hung_up(p.b.get()));  // still open while data waits
  sink s(p.b.get(), 16384);          // now read it all, slowly
  REQUIRE(run_until([&] { return s.eof; }, 30s));
  CHECK(s.error == 0);
  CHECK(s.data.size() == data.size());
  CHECK(s.data == data);
  CHECK(rec.errors.empty());  // nothing is reported from lingering
}

TEST_CASE("handle/linger/drop_last_reference_with_unwritten_data") {
  auto p = make_socketpair();
  auto h = ae::handle::create({.fd = small_sndbuf(std::move(p.a))});
  const std::string data = pattern(1024 * 1024, 15);
  h->push_write(data);
  REQUIRE(h->wbuf_size() > 0);
  h.reset();
  sink s(p.b.get());
  REQUIRE(run_until([&] { return s.eof; }, 30s));
  CHECK(s.data == data);
}

TEST_CASE("handle/linger/zero_drops_and_closes_at_once") {
  auto p = make_socketpair();
  auto h = ae::handle::create({.fd = small_sndbuf(std::move(p.a)), .linger = 0s});
  const std::string data = pattern(2 * 1024 * 1024, 16);
  h->push_write(data);
  REQUIRE(h->wbuf_size() > 0);
  const int fd = h->fd();
  h->destroy();
  CHECK_FALSE(fd_open(fd));
  // No loop iteration: what the kernel had is readable, then EOF at once.
  std::string got;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(p.b.get(), buf, sizeof buf)) > 0) got.append(buf, static_cast<std::size_t>(n));
  CHECK(n == 0);
  CHECK(got.size() < data.size());
  CHECK(got == data.substr(0, got.size()));
}

TEST_CASE("handle/linger/time_limit") {
  auto p = make_socketpair();
  recorder rec;
  auto h = ae::handle::create({.fd = small_sndbuf(std::move(p.a)), .on_error = rec.on_error(), .linger = 100ms});
  h->push_write(pattern(1024 * 1024, 17));
  REQUIRE(h->wbuf_size() > 0);
  ae::default_loop().now_update();
  const auto start = loop_now();
  h->destroy();
  h.reset();
  // The peer never reads: after the linger time the descriptor is closed anyway.
  REQUIRE(run_until([&] { return hung_up(p.b.get()); }));
  CHECK(loop_now() - start >= 100ms);
  CHECK(rec.errors.empty());
}

TEST_CASE("handle/linger/peer_gone_while_lingering") {
  auto p = make_socketpair();
  recorder rec;
  auto h = ae::handle::create({.fd = small_sndbuf(std::move(p.a)), .on_error = rec.on_error()});
  h->push_write(pattern(1024 * 1024, 18));
  REQUIRE(h->wbuf_size() > 0);
  h->destroy();
  h.reset();
  p.b.reset();  // the reader goes: the lingering write fails and ends the linger quietly
  const long before = open_fds();  // the lingering descriptor is one of these
  REQUIRE(run_until([&] { return open_fds() == before - 1; }));
  CHECK(rec.errors.empty());
}
