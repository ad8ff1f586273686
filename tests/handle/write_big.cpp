// Several MiB pushed at once to a peer that reads slowly: everything arrives, in order, and
// on_drain runs once, when the last byte went to the kernel.
#include "support.hpp"

using namespace handle_test;

namespace {
void big_write(ae::fd mine, ae::fd peer) {
  recorder rec;
  const std::string data = pattern(6 * 1024 * 1024 + 123, 42);
  std::string got;
  int drain_calls = 0;
  std::size_t got_at_drain = 0;
  // The slow reader: 32 KiB every millisecond at most.
  ae::timer slow(1ms, 1ms, [&] {
    char buf[32768];
    const ssize_t n = ::read(peer.get(), buf, sizeof buf);
    if (n > 0) got.append(buf, static_cast<std::size_t>(n));
  });
  auto h = ae::handle::create({.fd = std::move(mine), .on_error = rec.on_error()});
  h->push_write(data);
  CHECK(h->wbuf_size() > 0);
  CHECK(h->wbuf_size() < data.size());  // the kernel took the first part at once
  h->on_drain([&](ae::handle& hh) {
    ++drain_calls;
    CHECK(hh.wbuf_size() == 0);
    got_at_drain = got.size();
  });
  CHECK(drain_calls == 0);
  REQUIRE(run_until([&] { return got.size() >= data.size(); }, 60s));
  run_for(20ms);
  CHECK(got.size() == data.size());
  CHECK(got == data);  // in order, nothing lost or doubled
  CHECK(drain_calls == 1);
  CHECK(got_at_drain < data.size());  // the last part was still in the kernel then
  CHECK(rec.errors.empty());
}
}  // namespace

TEST_CASE("handle/write_big/socketpair") {
  auto p = make_socketpair();
  big_write(std::move(p.a), std::move(p.b));
}

TEST_CASE("handle/write_big/pipe") {
  auto p = make_pipe();
  big_write(std::move(p.b), std::move(p.a));
}
