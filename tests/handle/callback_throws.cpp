// An exception thrown by a handle callback leaves the loop's run_once() (as any callback's
// does), and the handle stays usable: the queue and the reading go on afterwards.
#include "support.hpp"

#include <optional>
#include <stdexcept>

using namespace handle_test;

namespace {
struct boom : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::optional<std::string> run_until_boom() {
  auto& l = ae::default_loop();
  l.now_update();
  bool expired = false;
  ae::timer t(patience, [&] { expired = true; });
  while (!expired) {
    try {
      l.run_once();
    } catch (const boom& e) {
      return std::string(e.what());
    }
  }
  return std::nullopt;
}
}  // namespace

TEST_CASE("handle/callback_throws/read_callback") {
  auto p = make_socketpair();
  recorder rec;
  std::vector<std::string> got;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error()});
  h->push_read(ae::chunk(2), [](ae::handle&, std::string_view) { throw boom("from chunk"); });
  h->push_read(ae::chunk(2), [&](ae::handle&, std::string_view d) { got.emplace_back(d); });
  REQUIRE(write_all(p.b.get(), "ab"));
  const auto what = run_until_boom();
  REQUIRE(what.has_value());
  CHECK(*what == "from chunk");
  CHECK_FALSE(h->destroyed());
  REQUIRE(write_all(p.b.get(), "cd"));
  REQUIRE(run_until([&] { return !got.empty(); }));
  CHECK(got == std::vector<std::string>{"cd"});
  h->push_read(ae::line(), [&](ae::handle&, std::string_view l) { got.emplace_back(l); });
  REQUIRE(write_all(p.b.get(), "ef\n"));
  REQUIRE(run_until([&] { return got.size() == 2; }));
  CHECK(got[1] == "ef");
  CHECK(rec.errors.empty());
}

TEST_CASE("handle/callback_throws/on_read") {
  auto p = make_socketpair();
  int calls = 0;
  std::string got;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_read = [&](ae::handle& hh) {
                                 ++calls;
                                 if (calls == 1) {
                                   hh.rbuf().consume(hh.rbuf().size());
                                   throw boom("from on_read");
                                 }
                                 got += hh.rbuf().view();
                                 hh.rbuf().consume(hh.rbuf().size());
                               }});
  REQUIRE(write_all(p.b.get(), "1"));
  const auto what = run_until_boom();
  REQUIRE(what.has_value());
  CHECK(*what == "from on_read");
  // The callback stays set (it threw, it was not replaced) and reading goes on.
  REQUIRE(write_all(p.b.get(), "2"));
  REQUIRE(run_until([&] { return got == "2"; }));
  CHECK(calls == 2);
}
