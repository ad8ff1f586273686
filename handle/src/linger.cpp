// Lingering writes (AnyEvent's linger): a handle destroyed with bytes the kernel has not
// taken hands them, with its descriptor, to a writer that lives on the loop. The writer
// ends when the bytes are written, on the first error, or after the linger time, and
// closes the descriptor then; nothing is reported (as the kernel reports nothing about data
// left in a socket at close). The loop owns the writers (a loop attachment), so a loop that
// goes ends them and leaks no descriptor.
#include "handle_impl.hpp"

#include <list>

namespace ae::detail {

namespace {

class lingerers {
 public:
  explicit lingerers(loop unowned) : loop_(std::move(unowned)) {}

  void add(ae::fd fd, buffer data, bool is_socket, duration limit) {
    auto it = writers_.emplace(writers_.end());
    it->fd = std::move(fd);
    it->data = std::move(data);
    it->is_socket = is_socket;
    it->io = ae::io(it->fd.get(), poll::write, [this, it] { write(it); }, loop_);
    it->timer = ae::timer(limit, [this, it] { writers_.erase(it); }, loop_);
  }

 private:
  struct writer {
    ae::fd fd;  // declared first: closed after its watchers are gone
    buffer data;
    bool is_socket = true;
    ae::io io;
    ae::timer timer;
  };

  void write(std::list<writer>::iterator it) {
    const ssize_t n = write_some(it->fd.get(), it->is_socket, it->data.data(), it->data.size());
    if (n > 0) it->data.consume(static_cast<std::size_t>(n));
    if ((n > 0 && it->data.empty()) || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) || n == 0)
      writers_.erase(it);
  }

  loop loop_;  // does not own the loop: the loop owns this
  std::list<writer> writers_;
};

}  // namespace

void linger(loop& l, ae::fd fd, buffer data, bool is_socket, duration limit) {
  static const char key = 0;
  auto* set = static_cast<lingerers*>(loop_attachment(l.impl(), &key, [&l] {
    loop unowned(std::shared_ptr<loop_impl>(std::shared_ptr<void>(), l.impl()));
    return std::static_pointer_cast<void>(std::make_shared<lingerers>(std::move(unowned)));
  }));
  set->add(std::move(fd), std::move(data), is_socket, limit);
}

}  // namespace ae::detail
