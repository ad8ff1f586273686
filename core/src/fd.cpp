#include <anyevent/fd.hpp>

#include <unistd.h>

namespace ae {

void fd::reset(int n) noexcept {
  if (n_ >= 0 && n_ != n) {
    detail::fd_closing(n_);
    ::close(n_);
  }
  n_ = n;
}

}  // namespace ae
