// ae/error.hpp: one table of errors; every errc has a name and a message, and the
// std::error_category answers from it.
#include "support.hpp"

#include <set>
#include <string>

using namespace core_test;

TEST_CASE("error/table_covers_every_errc") {
  const auto table = ae::error_table();
  REQUIRE(table.size() >= 9);
  std::set<std::string> names;
  for (std::size_t i = 0; i < table.size(); ++i) {
    const auto& e = table[i];
    CAPTURE(i);
    CHECK(static_cast<int>(e.code) == static_cast<int>(i) + 1);  // enum order, from 1
    REQUIRE(e.name != nullptr);
    REQUIRE(e.message != nullptr);
    CHECK(std::string(e.name).size() > 0);
    CHECK(std::string(e.message).size() > 0);
    names.insert(e.name);
    const std::error_code ec = e.code;  // is_error_code_enum
    CHECK(&ec.category() == &ae::error_category());
    CHECK(ec.message() == e.message);
  }
  CHECK(names.size() == table.size());
  // The last enumerator is in the table.
  CHECK(static_cast<int>(table.back().code) >= static_cast<int>(ae::errc::not_a_child));
}

TEST_CASE("error/category") {
  CHECK(std::string(ae::error_category().name()).size() > 0);
  const std::error_code ec = ae::errc::invalid_signal;
  CHECK(ec == ae::errc::invalid_signal);
  CHECK(ec != ae::errc::invalid_duration);
  CHECK_FALSE(ae::error_category().message(9999).empty());  // unknown values still say something
}

TEST_CASE("error/recursive_wait_is_an_ae_error") {
  ae::recursive_wait e;
  const ae::error& base = e;
  CHECK(base.code() == ae::errc::recursive_wait);
  CHECK(std::string(base.what()).size() > 0);
}
