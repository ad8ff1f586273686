// read_size / max_read_size: each read from the descriptor asks for read_size bytes, and a
// read that fills it doubles read_size up to max_read_size (one read per loop iteration, as
// AnyEvent documents it), so on_read sees the data in exactly those steps.
#include "support.hpp"

#include <numeric>

using namespace handle_test;

namespace {
std::vector<std::size_t> read_sizes(std::size_t read_size, std::size_t max_read_size, std::size_t total) {
  auto p = make_socketpair();
  std::vector<std::size_t> sizes;
  std::size_t seen = 0;
  auto h = ae::handle::create({.fd = std::move(p.a),
                               .on_read =
                                   [&](ae::handle& hh) {
                                     sizes.push_back(hh.rbuf().size());
                                     seen += hh.rbuf().size();
                                     hh.rbuf().consume(hh.rbuf().size());
                                   },
                               .read_size = read_size,
                               .max_read_size = max_read_size});
  REQUIRE(write_all(p.b.get(), pattern(total, 25)));
  REQUIRE(run_until([&] { return seen == total; }));
  return sizes;
}
}  // namespace

TEST_CASE("handle/read_size/fixed") {
  CHECK(read_sizes(1, 1, 6) == std::vector<std::size_t>(6, 1));
  CHECK(read_sizes(3, 3, 10) == std::vector<std::size_t>{3, 3, 3, 1});
}

TEST_CASE("handle/read_size/doubles_up_to_max") {
  CHECK(read_sizes(4, 16, 100) == std::vector<std::size_t>{4, 8, 16, 16, 16, 16, 16, 8});
}

TEST_CASE("handle/read_size/max_below_read_size") {
  // AnyEvent: max_read_size defaults to read_size when that is higher.
  CHECK(read_sizes(8, 2, 20) == std::vector<std::size_t>{8, 8, 4});
}
