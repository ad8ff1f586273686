// chunk(n): the callback gets exactly n bytes, never fewer, however the bytes arrive; queued
// chunks are served in order; chunk(0) completes at once with an empty string.
#include "support.hpp"

using namespace handle_test;

TEST_CASE("handle/read_chunk/exact_size") {
  auto p = make_socketpair();
  recorder rec;
  std::vector<std::string> got;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error(), .on_eof = rec.on_eof()});
  h->push_read(ae::chunk(5), [&](ae::handle& hh, std::string_view d) {
    CHECK(&hh == h.get());
    got.emplace_back(d);
  });
  REQUIRE(write_all(p.b.get(), "helloworld"));
  REQUIRE(run_until([&] { return !got.empty(); }));
  run_for(20ms);
  REQUIRE(got.size() == 1);
  CHECK(got[0] == "hello");
  CHECK(h->rbuf().view() == "world");  // the rest stays for later reads
  CHECK(rec.errors.empty());
}

TEST_CASE("handle/read_chunk/split_across_reads") {
  auto p = make_socketpair();
  recorder rec;
  std::string got;
  int calls = 0;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error()});
  h->push_read(ae::chunk(12), [&](ae::handle&, std::string_view d) {
    ++calls;
    got = d;
  });
  for (std::string_view part : {"ab", "cdef", "g", "hijk"}) {
    REQUIRE(write_all(p.b.get(), part));
    run_for(20ms);
    CHECK(calls == 0);  // 11 bytes at most so far: not enough
  }
  REQUIRE(write_all(p.b.get(), "lmn"));
  REQUIRE(run_until([&] { return calls > 0; }));
  run_for(20ms);
  CHECK(calls == 1);
  CHECK(got == "abcdefghijkl");
  CHECK(h->rbuf().view() == "mn");
  CHECK(rec.errors.empty());
}

TEST_CASE("handle/read_chunk/queued_in_order") {
  auto p = make_socketpair();
  recorder rec;
  std::vector<std::string> got;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error()});
  for (std::size_t n : {3, 1, 4, 2})
    h->push_read(ae::chunk(n), [&](ae::handle&, std::string_view d) { got.emplace_back(d); });
  REQUIRE(write_all(p.b.get(), "abcdefghij"));
  REQUIRE(run_until([&] { return got.size() == 4; }));
  CHECK(got == std::vector<std::string>{"abc", "d", "efgh", "ij"});
  CHECK(h->rbuf().empty());
  CHECK(rec.errors.empty());
}

TEST_CASE("handle/read_chunk/binary_bytes") {
  auto p = make_socketpair();
  std::string got;
  const std::string data = pattern(100000, 7);  // NULs, \r, \n and all: chunk does not care
  auto h = ae::handle::create({.fd = std::move(p.a)});
  h->push_read(ae::chunk(data.size()), [&](ae::handle&, std::string_view d) { got = d; });
  std::size_t off = 0;
  REQUIRE(run_until([&] {
    if (off < data.size()) {
      const ssize_t n = ::send(p.b.get(), data.data() + off, std::min<std::size_t>(7777, data.size() - off),
                               MSG_NOSIGNAL);
      if (n > 0) off += static_cast<std::size_t>(n);
    }
    return !got.empty();
  }));
  CHECK(got.size() == data.size());
  CHECK(got == data);
}

TEST_CASE("handle/read_chunk/zero") {
  auto p = make_socketpair();
  recorder rec;
  int calls = 0;
  std::string got = "?";
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error()});
  // Nothing is needed, so the request is satisfied inside push_read (as in AnyEvent).
  h->push_read(ae::chunk(0), [&](ae::handle&, std::string_view d) {
    ++calls;
    got = d;
  });
  CHECK(calls == 1);
  CHECK(got.empty());
  // A zero chunk queued behind a real one runs right after it, with the rest untouched.
  std::vector<std::string> order;
  h->push_read(ae::chunk(2), [&](ae::handle&, std::string_view d) { order.push_back("2:" + std::string(d)); });
  h->push_read(ae::chunk(0), [&](ae::handle&, std::string_view d) { order.push_back("0:" + std::string(d)); });
  h->push_read(ae::chunk(1), [&](ae::handle&, std::string_view d) { order.push_back("1:" + std::string(d)); });
  REQUIRE(write_all(p.b.get(), "xyz"));
  REQUIRE(run_until([&] { return order.size() == 3; }));
  CHECK(order == std::vector<std::string>{"2:xy", "0:", "1:z"});
  CHECK(calls == 1);
  CHECK(rec.errors.empty());
}
