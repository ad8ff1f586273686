// push_write: bytes reach the peer in the order pushed, and with an empty write buffer they
// go to the kernel inside push_write (no autocork); unshift_write puts bytes before what is
// not yet handed to the kernel.
#include "support.hpp"

using namespace handle_test;

TEST_CASE("handle/write_order/in_order") {
  auto p = make_socketpair();
  recorder rec;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error()});
  std::string expect;
  for (int i = 0; i < 1000; ++i) {
    const std::string msg = std::to_string(i) + ",";
    expect += msg;
    h->push_write(msg);
  }
  sink s(p.b.get());
  REQUIRE(run_until([&] { return s.data.size() >= expect.size(); }));
  CHECK(s.data == expect);
  CHECK(h->wbuf_size() == 0);
  CHECK(rec.errors.empty());
}

TEST_CASE("handle/write_order/straight_to_the_kernel") {
  auto p = make_socketpair();
  auto h = ae::handle::create({.fd = std::move(p.a)});
  h->push_write("now");
  // No loop iteration in between: the bytes are already in the peer's socket.
  CHECK(h->wbuf_size() == 0);
  CHECK(read_available(p.b.get()) == "now");
}

TEST_CASE("handle/write_order/interleaved_with_a_full_kernel") {
  auto p = make_socketpair();
  int small = 16 * 1024;
  REQUIRE(::setsockopt(p.a.get(), SOL_SOCKET, SO_SNDBUF, &small, sizeof small) == 0);
  auto h = ae::handle::create({.fd = std::move(p.a)});
  std::string expect;
  for (int i = 0; i < 64; ++i) {
    const std::string block = pattern(10000 + static_cast<std::size_t>(i), static_cast<unsigned>(i));
    expect += block;
    h->push_write(block);
  }
  CHECK(h->wbuf_size() > 0);  // the kernel took only part of 640 KB
  sink s(p.b.get(), 4096);    // a slow reader: 4 KiB per wakeup
  REQUIRE(run_until([&] { return s.data.size() >= expect.size(); }));
  CHECK(s.data.size() == expect.size());
  CHECK(s.data == expect);
  CHECK(h->wbuf_size() == 0);
}

TEST_CASE("handle/write_order/unshift_write_overtakes_queued") {
  auto p = make_socketpair();
  auto h = ae::handle::create({.fd = std::move(p.a), .autocork = true});
  h->push_write("B");
  h->push_write("C");
  h->unshift_write("A");
  CHECK(h->wbuf_size() == 3);
  CHECK(read_available(p.b.get()).empty());  // autocork: nothing handed over yet
  sink s(p.b.get());
  REQUIRE(run_until([&] { return s.data.size() >= 3; }));
  CHECK(s.data == "ABC");
}

TEST_CASE("handle/write_order/unshift_write_on_empty_buffer") {
  auto p = make_socketpair();
  auto h = ae::handle::create({.fd = std::move(p.a)});
  h->unshift_write("first");
  h->push_write(" second");
  sink s(p.b.get());
  REQUIRE(run_until([&] { return s.data.size() >= 12; }));
  CHECK(s.data == "first second");
}
