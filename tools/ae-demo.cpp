// ae-demo: one tour of the watcher API on whichever backend ANYEVENT_BACKEND selects —
// an interval timer, a pipe echo, a signal and a child process, ending with a condvar.
#include <anyevent/anyevent.hpp>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

using namespace std::chrono_literals;

int main(int argc, char** argv) {
  if (argc > 1) {
    std::puts("usage: ae-demo\nRuns timers, a pipe echo, a signal and a child process on the backend\n"
              "ANYEVENT_BACKEND selects (default: the built-in loop), and prints what happens.");
    return std::strcmp(argv[1], "--help") == 0 ? 0 : 2;
  }
  try {
    auto& loop = ae::default_loop();
    std::printf("backend: %.*s\n", static_cast<int>(loop.backend().size()), loop.backend().data());
    ae::condvar<> done;

    int ticks = 0;
    ae::timer tick(0s, 50ms, [&] { std::printf("tick %d\n", ++ticks); });

    int fds[2];
    if (::pipe(fds) < 0) throw std::system_error(errno, std::generic_category(), "pipe");
    ae::fd rd(fds[0]), wr(fds[1]);
    ae::io echo(rd.get(), ae::poll::read, [&] {
      char buf[64];
      const ssize_t n = ::read(rd.get(), buf, sizeof buf);
      if (n > 0) std::printf("pipe: %.*s\n", static_cast<int>(n), buf);
    });
    ae::timer say(20ms, [&] { (void)!::write(wr.get(), "hello through a pipe", 20); });

    ae::signal usr1(SIGUSR1, [&] { std::puts("signal: SIGUSR1 delivered in loop context"); });
    ae::timer raise_it(40ms, [] { ::kill(::getpid(), SIGUSR1); });

    const pid_t pid = ::fork();
    if (pid == 0) {
      ::usleep(100'000);
      ::_exit(7);
    }
    ae::child kid(pid, [&](pid_t p, int status) {
      std::printf("child %d exited with status %d\n", static_cast<int>(p), WEXITSTATUS(status));
      tick.stop();
      done.send();
    });
    done.recv();
    std::printf("done after %d ticks\n", ticks);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ae-demo: %s\n", e.what());
    return 1;
  }
}
