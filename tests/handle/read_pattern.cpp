// ae::pattern (PCRE2) on what a peer sends: a long input that a naive matcher would recurse
// through (std::regex overflows its stack near 100 KB on ".*x") is matched, or given up on
// with a non-fatal EBADMSG — never a crash or a stall. A pattern that does not compile is an
// ae::error naming where it stopped.
#include "support.hpp"

using namespace handle_test;

namespace {
/// Sends `s` to `fd` from the loop, as the peer's socket takes it.
struct slow_writer {
  std::string data;
  std::size_t off = 0;
  ae::io w;
  slow_writer(int fd, std::string s) : data(std::move(s)) {
    w = ae::io(fd, ae::poll::write, [this, fd] {
      const ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (n > 0) off += static_cast<std::size_t>(n);
      if (off == data.size()) w.stop();
    });
  }
  bool done() const { return off == data.size(); }
};
}  // namespace

TEST_CASE("handle/read_pattern/a_megabyte_then_the_match") {
  auto p = make_socketpair();
  recorder rec;
  std::string got;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error(), .rbuf_max = 4 << 20});
  h->push_read(ae::regex(ae::pattern(".*x")), [&](ae::handle&, std::string_view d) { got = d; });
  slow_writer w(p.b.get(), std::string(1 << 20, 'a') + "x tail");
  REQUIRE(run_until([&] { return !got.empty() || !rec.errors.empty(); }));
  CHECK(rec.errors.empty());
  CHECK(got.size() == (1u << 20) + 1);
  CHECK(got.back() == 'x');
  REQUIRE(run_until([&] { return h->rbuf().size() == 5; }));
  CHECK(h->rbuf().view() == " tail");
}

TEST_CASE("handle/read_pattern/too_costly_is_a_non_fatal_ebadmsg") {
  // "(a|b)*c" over a megabyte of 'a' and a final 'c' needs far more backtracking memory
  // than pattern.hpp's limit: the line read gives up on it instead of the process dying.
  auto p = make_socketpair();
  recorder rec;
  int lines = 0;
  auto h = ae::handle::create({.fd = std::move(p.a), .on_error = rec.on_error(), .rbuf_max = 4 << 20});
  h->push_read(ae::line(ae::pattern("(a|b)*c")), [&](ae::handle&, std::string_view) { ++lines; });
  slow_writer w(p.b.get(), std::string(1 << 20, 'a') + "c");
  REQUIRE(run_until([&] { return !rec.errors.empty(); }));
  CHECK(lines == 0);
  CHECK_FALSE(rec.errors[0].fatal);
  CHECK(rec.errors[0].ec == std::errc::bad_message);
  CHECK(rec.errors[0].message.find("gave up") != std::string::npos);
  CHECK_FALSE(h->destroyed());
}

TEST_CASE("handle/read_pattern/captures") {
  ae::pattern p(R"((\w+)=(\d+)?;)");
  ae::captures m;
  REQUIRE(p.search("x: k=;", &m) == ae::pattern::result::match);
  CHECK(m[0] == "k=;");
  CHECK(m[1] == "k");
  CHECK(m[2].empty());  // a group that took no part
  CHECK(m.position(0) == 3);
  CHECK(p.search("nothing here") == ae::pattern::result::no_match);
  ae::pattern i("HELLO", ae::pattern::caseless);
  CHECK(i.search("say hello") == ae::pattern::result::match);
}

TEST_CASE("handle/read_pattern/bad_pattern_throws") {
  try {
    ae::pattern p("(unclosed");
    FAIL("no exception");
  } catch (const ae::error& e) {
    CHECK(e.code() == std::errc::invalid_argument);
    CHECK(std::string(e.what()).find("offset 9") != std::string::npos);
    CHECK(std::string(e.what()).find("(unclosed") != std::string::npos);
  }
}
