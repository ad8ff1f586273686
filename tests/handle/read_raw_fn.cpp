// push_read with a plain read_fn (bool(handle&)): called once when queued and again each
// time data arrives while it is first in the queue; it consumes what it needs and returns
// true when done (AnyEvent's untyped push_read).
#include "support.hpp"

using namespace handle_test;

TEST_CASE("handle/read_raw_fn/called_until_done") {
  auto p = make_socketpair();
  recorder rec;
  int calls = 0;
  std::vector<std::size_t> sizes_seen;
  std::string got;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error()});
  h->push_read([&](ae::handle& hh) {
    ++calls;
    sizes_seen.push_back(hh.rbuf().size());
    const auto v = hh.rbuf().view();
    const auto end = v.find('.');
    if (end == std::string_view::npos) return false;
    got = v.substr(0, end);
    hh.rbuf().consume(end + 1);
    return true;
  });
  CHECK(calls == 1);  // tried once when queued, with an empty buffer
  CHECK(sizes_seen == std::vector<std::size_t>{0});
  REQUIRE(write_all(p.b.get(), "ab"));
  REQUIRE(run_until([&] { return calls == 2; }));
  REQUIRE(write_all(p.b.get(), "c.d"));
  REQUIRE(run_until([&] { return !got.empty(); }));
  run_for(20ms);
  CHECK(got == "abc");
  CHECK(calls == 3);
  CHECK(sizes_seen == std::vector<std::size_t>{0, 2, 5});
  CHECK(h->rbuf().view() == "d");
  // Done: it is not called again when more data comes.
  REQUIRE(write_all(p.b.get(), "more"));
  run_for(30ms);
  CHECK(calls == 3);
  CHECK(rec.errors.empty());
}

TEST_CASE("handle/read_raw_fn/runs_at_once_on_buffered_data") {
  auto p = make_socketpair();
  std::vector<std::string> order;
  auto h = ae::handle::create({.fd = std::move(p.a)});
  // Park data in rbuf with a request that takes only part of it.
  h->push_read(ae::chunk(1), [&](ae::handle&, std::string_view d) { order.push_back("chunk:" + std::string(d)); });
  REQUIRE(write_all(p.b.get(), "xyz"));
  REQUIRE(run_until([&] { return order.size() == 1; }));
  CHECK(h->rbuf().view() == "yz");
  // The data it needs is there, so the request completes inside push_read.
  h->push_read([&](ae::handle& hh) {
    order.push_back("raw:" + std::string(hh.rbuf().view()));
    hh.rbuf().consume(hh.rbuf().size());
    return true;
  });
  CHECK(order == std::vector<std::string>{"chunk:x", "raw:yz"});
  CHECK(h->rbuf().empty());
}

TEST_CASE("handle/read_raw_fn/done_without_consuming") {
  auto p = make_socketpair();
  std::vector<std::string> order;
  auto h = ae::handle::create({.fd = std::move(p.a)});
  h->push_read([&](ae::handle& hh) {
    if (hh.rbuf().empty()) return false;
    order.push_back("peek:" + std::string(hh.rbuf().view()));
    return true;  // done, but the bytes stay for the next request
  });
  h->push_read(ae::chunk(2), [&](ae::handle&, std::string_view d) { order.push_back("chunk:" + std::string(d)); });
  REQUIRE(write_all(p.b.get(), "hi"));
  REQUIRE(run_until([&] { return order.size() == 2; }));
  CHECK(order == std::vector<std::string>{"peek:hi", "chunk:hi"});
}
