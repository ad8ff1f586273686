// Timers with different deadlines run in deadline order, whatever the order of creation.
#include "support.hpp"

#include <algorithm>
#include <string>
#include <vector>

using namespace core_test;

TEST_CASE("timer/order/by_deadline") {
  auto l = ae::loop::create();
  const std::vector<int> ms = {30, 10, 20, 0, 5, 15, 25, 1, 40, 2};
  std::vector<int> order;
  std::vector<ae::timer> timers;
  for (int d : ms) timers.emplace_back(std::chrono::milliseconds(d), [&order, d] { order.push_back(d); }, l);
  REQUIRE(run_until(l, [&] { return order.size() == ms.size(); }));
  auto sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  CHECK(order == sorted);
}

TEST_CASE("timer/order/due_together_still_by_deadline") {
  // All deadlines pass while the loop is busy: one iteration finds them all due and must
  // still call them by deadline.
  auto l = ae::loop::create();
  std::vector<int> order;
  std::vector<ae::timer> timers;
  for (int d : {9, 3, 7, 1, 5}) timers.emplace_back(std::chrono::milliseconds(d), [&order, d] { order.push_back(d); }, l);
  std::this_thread::sleep_for(20ms);
  REQUIRE(run_until(l, [&] { return order.size() == 5; }));
  CHECK(order == std::vector<int>{1, 3, 5, 7, 9});
}

TEST_CASE("timer/order/interval_interleaves_with_one_shots") {
  auto l = ae::loop::create();
  std::vector<char> seq;
  // Wide gaps, so that only a loop late by a whole interval could reorder anything.
  ae::timer tick(0s, 40ms, [&] { seq.push_back('i'); }, l);  // 0, 40, 80, 120
  ae::timer a(60ms, [&] { seq.push_back('a'); }, l);
  ae::timer b(100ms, [&] { seq.push_back('b'); }, l);
  REQUIRE(run_until(l, [&] { return std::count(seq.begin(), seq.end(), 'i') >= 4; }));
  // i@0 i@40 a@60 i@80 b@100 i@120
  const std::vector<char> expect = {'i', 'i', 'a', 'i', 'b', 'i'};
  REQUIRE(seq.size() >= expect.size());
  // A loop stalled by more than a whole interval (a loaded machine) legitimately reorders:
  // say what ran, so a failure tells a stall from a heap bug.
  INFO("sequence: " << std::string(seq.begin(), seq.end()));
  CHECK(std::vector<char>(seq.begin(), seq.begin() + 6) == expect);
}
