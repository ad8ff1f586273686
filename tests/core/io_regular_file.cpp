// DESIGN §2: an fd that cannot be polled (a regular file) is always ready, as POSIX poll
// says, on every backend — never an abort or a silent hang.
#include "support.hpp"

#include <cstdlib>
#include <optional>
#include <string>

using namespace core_test;

namespace {
ae::fd temp_file() {
  const char* dir = std::getenv("TMPDIR");
  std::string path = std::string(dir && *dir ? dir : "/tmp") + "/anyevent-core-XXXXXX";
  const int n = ::mkostemp(path.data(), O_CLOEXEC);
  REQUIRE(n >= 0);
  ::unlink(path.c_str());
  const char data[] = "some bytes";
  REQUIRE(::write(n, data, sizeof data) == static_cast<ssize_t>(sizeof data));
  ::lseek(n, 0, SEEK_SET);
  return ae::fd(n);
}
}  // namespace

TEST_CASE("io/regular_file/read_is_always_ready") {
  auto l = ae::loop::create();
  auto f = temp_file();
  int calls = 0;
  ae::io w(f.get(), ae::poll::read, [&](ae::poll e) {
    CHECK(e == ae::poll::read);
    ++calls;
  }, l);
  REQUIRE(run_until(l, [&] { return calls >= 3; }));  // and again, and again
}

TEST_CASE("io/regular_file/write_and_both") {
  auto l = ae::loop::create();
  auto f = temp_file();
  int writes = 0, boths = 0;
  ae::poll both_bits{};
  ae::io w(f.get(), ae::poll::write, [&](ae::poll e) {
    CHECK(e == ae::poll::write);
    ++writes;
  }, l);
  ae::io b(f.get(), ae::poll::both, [&](ae::poll e) {
    both_bits = e;
    ++boths;
  }, l);
  REQUIRE(run_until(l, [&] { return writes >= 2 && boths >= 2; }));
  CHECK(both_bits == ae::poll::both);
}

TEST_CASE("io/regular_file/stop_and_rewatch") {
  auto l = ae::loop::create();
  auto f = temp_file();
  int calls = 0;
  std::optional<ae::io> w;
  w.emplace(f.get(), ae::poll::read, [&] {
    if (++calls == 2) w.reset();
  }, l);
  REQUIRE(run_until(l, [&] { return calls >= 2; }));
  {
    ae::timer keep(0s, 1ms, [] {}, l);
    for (int i = 0; i < 5; ++i) l.run_once();
  }
  CHECK(calls == 2);
  int again = 0;
  ae::io w2(f.get(), ae::poll::read, [&] { ++again; }, l);
  REQUIRE(run_until(l, [&] { return again > 0; }));
}

TEST_CASE("io/regular_file/alongside_a_pipe") {
  // An always-ready fd must not starve or block the others.
  auto l = ae::loop::create();
  auto f = temp_file();
  auto p = make_pipe();
  int file_calls = 0, pipe_calls = 0, timer_calls = 0;
  ae::io wf(f.get(), ae::poll::read, [&] { ++file_calls; }, l);
  ae::io wp(p.r.get(), ae::poll::read, [&] {
    ++pipe_calls;
    drain(p.r.get());
  }, l);
  ae::timer t(5ms, [&] { ++timer_calls; }, l);
  REQUIRE(put_byte(p.w.get()));
  REQUIRE(run_until(l, [&] { return file_calls > 0 && pipe_calls > 0 && timer_calls > 0; }));
}

TEST_CASE("io/regular_file/dev_null") {
  auto l = ae::loop::create();
  ae::fd f(::open("/dev/null", O_RDWR | O_CLOEXEC));
  REQUIRE(f);
  int calls = 0;
  ae::io w(f.get(), ae::poll::both, [&] { ++calls; }, l);
  REQUIRE(run_until(l, [&] { return calls >= 2; }));
}

TEST_CASE("io/regular_file/run_returns_once_it_is_gone") {
  auto l = ae::loop::create();
  auto f = temp_file();
  int calls = 0;
  std::optional<ae::io> w;
  w.emplace(f.get(), ae::poll::read, [&] {
    if (++calls == 3) w.reset();
  }, l);
  watchdog dog(l);
  l.run();
  CHECK_FALSE(dog.fired());
  CHECK(calls == 3);
}
