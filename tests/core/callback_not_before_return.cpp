// DESIGN §2: a watcher's callback never runs before the call that created it returns — not
// even when the event is already there (a readable pipe, a 0 s timer, a send() right after
// construction) and not when the creating call is itself made from inside a callback.
#include "support.hpp"

#include <optional>

using namespace core_test;

namespace {

/// Creates one watcher of every kind whose event is due at once; `creating` is non-zero
/// exactly while a creating call is on the stack.
struct everything {
  ae::loop& l;
  int& creating;
  pipe_pair readable = make_pipe();
  pipe_pair writable = make_pipe();
  int io_read = 0, io_write = 0, timer0 = 0, idle = 0, post = 0, postpone = 0, async = 0;
  int early = 0;  // callbacks that ran while a creating call was on the stack

  std::optional<ae::io> r, w;
  std::optional<ae::timer> t;
  std::optional<ae::idle> i;
  std::optional<ae::async> a;

  everything(ae::loop& l, int& creating) : l(l), creating(creating) { REQUIRE(put_byte(readable.w.get())); }

  void note(int& counter) {
    if (creating != 0) ++early;
    ++counter;
  }

  void create_all() {
    ++creating;
    r.emplace(readable.r.get(), ae::poll::read, [this] { note(io_read); }, l);
    w.emplace(writable.w.get(), ae::poll::write, [this] { note(io_write); }, l);
    t.emplace(0s, [this] { note(timer0); }, l);
    i.emplace([this] { note(idle); }, l);
    a.emplace([this] { note(async); }, l);
    a->send();
    l.post([this] { note(post); });
    ae::postpone([this] { note(postpone); }, l);
    --creating;
  }

  bool all_ran() const { return io_read && io_write && timer0 && idle && post && postpone && async; }
};

}  // namespace

TEST_CASE("callback/not_before_creator_returns/outside_the_loop") {
  auto l = ae::loop::create();
  int creating = 0;
  everything e(l, creating);
  e.create_all();
  // The idle watcher only runs in an iteration with nothing else to do: once the others
  // are gone. Run until everything but idle ran, then drop the busy ones.
  REQUIRE(run_until(l, [&] { return e.io_read && e.io_write && e.timer0 && e.post && e.postpone && e.async; }));
  e.r.reset();
  e.w.reset();
  REQUIRE(run_until(l, [&] { return e.all_ran(); }));
  CHECK(e.early == 0);
  CHECK(e.timer0 == 1);
  CHECK(e.post == 1);
  CHECK(e.postpone == 1);
}

TEST_CASE("callback/not_before_creator_returns/inside_callbacks") {
  auto l = ae::loop::create();
  int creating = 0;

  SUBCASE("from a timer callback") {
    everything e(l, creating);
    ae::timer starter(0s, [&] { e.create_all(); }, l);
    REQUIRE(run_until(l, [&] { return e.io_read && e.io_write && e.timer0 && e.post && e.postpone && e.async; }));
    e.r.reset();
    e.w.reset();
    REQUIRE(run_until(l, [&] { return e.all_ran(); }));
    CHECK(e.early == 0);
  }
  SUBCASE("from an io callback") {
    everything e(l, creating);
    auto trigger = make_pipe();
    REQUIRE(put_byte(trigger.w.get()));
    std::optional<ae::io> starter;
    starter.emplace(trigger.r.get(), ae::poll::read, [&] {
      if (!e.r) e.create_all();
    }, l);
    REQUIRE(run_until(l, [&] { return e.io_read && e.io_write && e.timer0 && e.post && e.postpone && e.async; }));
    starter.reset();
    e.r.reset();
    e.w.reset();
    REQUIRE(run_until(l, [&] { return e.all_ran(); }));
    CHECK(e.early == 0);
  }
  SUBCASE("from an idle callback") {
    everything e(l, creating);
    std::optional<ae::idle> starter;
    starter.emplace([&] {
      if (!e.r) e.create_all();
    }, l);
    REQUIRE(run_until(l, [&] { return e.io_read && e.io_write && e.timer0 && e.post && e.postpone && e.async; }));
    starter.reset();
    e.r.reset();
    e.w.reset();
    REQUIRE(run_until(l, [&] { return e.all_ran(); }));
    CHECK(e.early == 0);
  }
}

TEST_CASE("callback/not_before_creator_returns/io_on_the_fd_being_dispatched") {
  // A watcher created for the very fd whose watchers are being dispatched must not be
  // reached by the dispatch that is already running its creator.
  auto l = ae::loop::create();
  auto p = make_pipe();
  REQUIRE(put_byte(p.w.get()));
  int creating = 0, early = 0, second = 0, first = 0;
  std::optional<ae::io> b;
  ae::io a(p.r.get(), ae::poll::read, [&] {
    ++first;
    if (b) return;
    ++creating;
    b.emplace(p.r.get(), ae::poll::read, [&] {
      if (creating) ++early;
      ++second;
    }, l);
    --creating;
  }, l);
  REQUIRE(run_until(l, [&] { return second > 0; }));
  CHECK(early == 0);
}
