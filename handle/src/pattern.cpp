// ae::pattern over PCRE2.
//
// Notes:
// 1. A compiled pattern is immutable and shared (pattern copies, queued read requests,
//    threads). What a match needs to write — PCRE2's match data and its match context with
//    the limits — is per thread and made once, so a search allocates nothing.
// 2. The limits make a hostile input an error instead of a stall or a crash: 10 million
//    match steps and 64 MiB of backtracking memory per search (PCRE2 10.30 and later keep
//    that memory on the heap, never on the stack).
// 3. UTF mode is off: the handle's bytes are bytes, as Perl's are for sysread data.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <anyevent/error.hpp>
#include <anyevent/pattern.hpp>

#include <pcre2.h>

namespace ae {

namespace detail {

struct compiled_pattern {
  pcre2_code* code = nullptr;
  std::string source;
  ~compiled_pattern() { pcre2_code_free(code); }
};

namespace {

/// The per-thread state a search writes (note 1).
struct matcher {
  pcre2_match_data* data = pcre2_match_data_create(captures::max_groups, nullptr);
  pcre2_match_context* context = pcre2_match_context_create(nullptr);
  matcher() {
    pcre2_set_match_limit(context, 10'000'000);  // note 2
    pcre2_set_heap_limit(context, 64 * 1024);    // KiB
  }
  ~matcher() {
    pcre2_match_context_free(context);
    pcre2_match_data_free(data);
  }
  matcher(const matcher&) = delete;
  matcher& operator=(const matcher&) = delete;
};

matcher& this_thread_matcher() {
  thread_local matcher m;
  return m;
}

}  // namespace
}  // namespace detail

pattern::pattern(std::string_view perl, flags f) {
  auto c = std::make_shared<detail::compiled_pattern>();
  c->source = perl;
  std::uint32_t options = 0;
  if (f & caseless) options |= PCRE2_CASELESS;
  if (f & multiline) options |= PCRE2_MULTILINE;
  if (f & dotall) options |= PCRE2_DOTALL;
  if (f & extended) options |= PCRE2_EXTENDED;
  int err = 0;
  PCRE2_SIZE at = 0;
  c->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(perl.data()), perl.size(), options, &err, &at, nullptr);
  if (!c->code) {
    PCRE2_UCHAR why[256];
    pcre2_get_error_message(err, why, sizeof why);
    throw ae::error(std::make_error_code(std::errc::invalid_argument),
                    "ae::pattern: " + std::string(reinterpret_cast<const char*>(why)) + " at offset " +
                        std::to_string(at) + " of \"" + c->source + "\"");
  }
  code_ = std::move(c);
}

const std::string& pattern::source() const noexcept { return code_->source; }

pattern::result pattern::search(std::string_view subject, captures* groups) const {
  detail::matcher& m = detail::this_thread_matcher();
  if (!m.data || !m.context) throw std::bad_alloc();
  // An empty view may have a null data pointer; PCRE2 wants a valid one even for length 0.
  const char* text = subject.data() ? subject.data() : "";
  const int rc = pcre2_match(code_->code, reinterpret_cast<PCRE2_SPTR>(text), subject.size(), 0, 0, m.data,
                             m.context);
  if (rc == PCRE2_ERROR_NOMATCH) return result::no_match;
  if (rc < 0) return result::too_costly;  // the limits, or another run-time failure: no match to trust
  if (groups) {
    // rc 0: more groups than the match data holds; the first max_groups are set.
    const auto pairs = rc == 0 ? captures::max_groups : static_cast<std::size_t>(rc);
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(m.data);
    groups->subject_ = subject;
    groups->count_ = pairs;
    for (std::size_t i = 0; i < pairs; ++i) {
      groups->spans_[i] = ov[2 * i] == PCRE2_UNSET ? captures::span{} : captures::span{ov[2 * i], ov[2 * i + 1]};
    }
  }
  return result::match;
}

}  // namespace ae
