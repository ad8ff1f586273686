// ae/log.hpp: a set sink receives messages at or below the threshold; set_sink({})
// restores the default, which writes to stderr.
#include "support.hpp"

#include <cstdio>
#include <string>
#include <utility>
#include <vector>

using namespace core_test;

namespace {
/// Restores the threshold and the default sink whatever happens in the test.
struct log_state {
  int saved = ae::log::threshold();
  ~log_state() {
    ae::log::set_sink({});
    ae::log::set_threshold(saved);
  }
};
}  // namespace

TEST_CASE("log/sink_receives_at_or_below_threshold") {
  log_state restore;
  std::vector<std::pair<ae::log::level, std::string>> got;
  ae::log::set_sink([&](ae::log::level lv, std::string_view m) { got.emplace_back(lv, std::string(m)); });
  ae::log::set_threshold(5);
  CHECK(ae::log::threshold() == 5);

  ae::log::write(ae::log::level::error, "an error");
  ae::log::write(ae::log::level::warn, "a warning");
  ae::log::write(ae::log::level::note, "a note");  // 6 > 5: dropped
  ae::log::write(ae::log::level::debug, "debugging");
  REQUIRE(got.size() == 2);
  CHECK(got[0].first == ae::log::level::error);
  CHECK(got[0].second == "an error");
  CHECK(got[1].first == ae::log::level::warn);
  CHECK(got[1].second == "a warning");

  ae::log::set_threshold(9);
  CHECK(ae::log::enabled(ae::log::level::trace));
  ae::log::write(ae::log::level::trace, "tracing");
  REQUIRE(got.size() == 3);
  CHECK(got[2].second == "tracing");

  ae::log::set_threshold(0);
  ae::log::write(ae::log::level::fatal, "nothing passes at 0");
  CHECK(got.size() == 3);
}

TEST_CASE("log/empty_sink_restores_default_stderr") {
  log_state restore;
  int custom = 0;
  ae::log::set_sink([&](ae::log::level, std::string_view) { ++custom; });
  ae::log::set_threshold(5);
  ae::log::write(ae::log::level::warn, "to the custom sink");
  CHECK(custom == 1);
  ae::log::set_sink({});

  // Capture stderr while the default sink writes.
  auto p = make_pipe();
  std::fflush(stderr);
  const int saved = ::dup(2);
  REQUIRE(saved >= 0);
  REQUIRE(::dup2(p.w.get(), 2) == 2);
  ae::log::write(ae::log::level::warn, "default sink message 1234");
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);

  char buf[512] = {};
  const ssize_t n = ::read(p.r.get(), buf, sizeof buf - 1);
  CHECK(custom == 1);
  REQUIRE(n > 0);
  CHECK(std::string(buf, static_cast<std::size_t>(n)).find("default sink message 1234") != std::string::npos);
}
