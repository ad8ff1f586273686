// unshift_read puts a request before everything queued; from inside a callback it goes
// before the requests that were queued behind that callback (AnyEvent's "OK + extra line"
// example and its EPP example).
#include "support.hpp"

using namespace handle_test;
using namespace std::string_view_literals;

TEST_CASE("handle/unshift_read/order") {
  auto p = make_socketpair();
  std::vector<std::string> order;
  auto h = ae::handle::create({.fd = std::move(p.a)});
  auto tag = [&](std::string name) {
    return [&order, name](ae::handle&, std::string_view d) { order.push_back(name + ":" + std::string(d)); };
  };
  h->push_read(ae::chunk(1), tag("A"));
  h->push_read(ae::chunk(1), tag("B"));
  h->unshift_read(ae::chunk(1), tag("C"));
  h->unshift_read(ae::chunk(1), tag("D"));
  REQUIRE(write_all(p.b.get(), "1234"));
  REQUIRE(run_until([&] { return order.size() == 4; }));
  CHECK(order == std::vector<std::string>{"D:1", "C:2", "A:3", "B:4"});
}

TEST_CASE("handle/unshift_read/from_a_callback_goes_first") {
  auto p = make_socketpair();
  std::vector<std::string> order;
  auto h = ae::handle::create({.fd = std::move(p.a)});
  // request 1 answers "OK" plus an extra line, or "ERROR"; request 2 answers 4 bytes.
  h->push_read(ae::line(), [&](ae::handle& hh, std::string_view line) {
    order.push_back("first:" + std::string(line));
    if (line == "OK")
      hh.unshift_read(ae::line(), [&](ae::handle&, std::string_view extra) {
        order.push_back("extra:" + std::string(extra));
      });
  });
  h->push_read(ae::chunk(4), [&](ae::handle&, std::string_view d) { order.push_back("second:" + std::string(d)); });
  REQUIRE(write_all(p.b.get(), "OK\nextra line\nDATA"));
  REQUIRE(run_until([&] { return order.size() == 3; }));
  CHECK(order == std::vector<std::string>{"first:OK", "extra:extra line", "second:DATA"});
  CHECK(h->rbuf().empty());
}

TEST_CASE("handle/unshift_read/epp_from_on_read") {
  auto p = make_socketpair();
  std::vector<std::string> frames;
  auto h = ae::handle::create({.fd = std::move(p.a)});
  h->on_read([&](ae::handle& hh) {
    hh.unshift_read(ae::chunk(4), [&](ae::handle& h2, std::string_view head) {
      const std::size_t len = std::size_t(std::uint8_t(head[0])) << 24 | std::size_t(std::uint8_t(head[1])) << 16 |
                              std::size_t(std::uint8_t(head[2])) << 8 | std::size_t(std::uint8_t(head[3]));
      h2.unshift_read(ae::chunk(len), [&](ae::handle&, std::string_view xml) { frames.emplace_back(xml); });
    });
  });
  REQUIRE(write_all(p.b.get(), "\x00\x00\x00\x05<a/>\n\x00\x00\x00"sv));
  REQUIRE(run_until([&] { return frames.size() == 1; }));
  REQUIRE(write_all(p.b.get(), "\x03<b>"sv));
  REQUIRE(run_until([&] { return frames.size() == 2; }));
  CHECK(frames == std::vector<std::string>{"<a/>\n", "<b>"});
  CHECK(h->rbuf().empty());
}
