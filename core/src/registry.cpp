// The only place that maps backend names to implementations.
//
// 1. "poll" is built in; "libev", "libevent" and "libuv" are modules `anyevent-<name>.so`
//    searched in ANYEVENT_BACKEND_PATH (colon-separated) and then the install folder.
// 2. Modules are opened RTLD_LOCAL: Debian's libev exports 25 libevent function names, and a
//    process with libev in its global scope that then loads libevent crashes.
// 3. Modules are never dlclose()d: one that installed a signal handler or left a close
//    callback pending would leave it pointing into unmapped memory.
// 4. A name that is unknown or cannot be loaded is an error naming the available backends
//    and why this one failed — never a silent fallback, or the test matrix would lie.
// 5. Environment variables are read with secure_getenv: ignored in setuid programs.
#include "loop_impl.hpp"

#include <anyevent/error.hpp>

#include <dlfcn.h>
#include <cstdlib>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#ifndef ANYEVENT_MODULE_DIR
#define ANYEVENT_MODULE_DIR "/usr/local/lib/anyevent"
#endif

namespace ae::detail {

namespace {

constexpr const char* known_backends[] = {"poll", "libev", "libevent", "libuv"};

struct loaded {
  const backend::ops* ops = nullptr;
  std::string path;
  std::string error;
};

std::mutex registry_mutex;
std::map<std::string, loaded, std::less<>> cache;  // guarded by registry_mutex

std::vector<std::string> search_dirs() {
  std::vector<std::string> dirs;
  if (const char* p = ::secure_getenv("ANYEVENT_BACKEND_PATH")) {
    std::string s(p);
    for (std::size_t start = 0; start <= s.size();) {
      const std::size_t end = std::min(s.find(':', start), s.size());
      if (end > start) dirs.push_back(s.substr(start, end - start));
      start = end + 1;
    }
  }
  dirs.emplace_back(ANYEVENT_MODULE_DIR);
  return dirs;
}

loaded load_module(const std::string& name) {
  loaded r;
  std::string errors;
  for (const auto& dir : search_dirs()) {
    const std::string path = dir + "/anyevent-" + name + ".so";
    void* h = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      if (!errors.empty()) errors += "; ";
      errors += ::dlerror();
      continue;
    }
    auto entry = reinterpret_cast<anyevent_backend_entry>(::dlsym(h, "anyevent_backend_v1"));
    if (!entry) {
      r.error = path + " exports no anyevent_backend_v1";
      return r;
    }
    const backend::ops* ops = entry();
    if (!ops || ops->abi != backend::abi_version) {
      r.error = path + " was built for backend ABI " + std::to_string(ops ? ops->abi : 0) + ", this library needs " +
                std::to_string(backend::abi_version) + "; rebuild the module";
      return r;
    }
    r.ops = ops;
    r.path = path;
    return r;
  }
  r.error = errors;
  return r;
}

/// Looks a name up, loading its module once. Caller holds registry_mutex.
const loaded& lookup(const std::string& name) {
  auto it = cache.find(name);
  if (it != cache.end()) return it->second;
  loaded r;
  if (name == "poll") {
    r.ops = builtin_ops();
    r.path = "built in";
  } else {
    r = load_module(name);
  }
  return cache.emplace(name, std::move(r)).first->second;
}

bool is_known(std::string_view name) {
  for (auto* k : known_backends)
    if (name == k) return true;
  return false;
}

std::string available_list() {
  std::string s;
  for (auto& n : available_backends()) s += (s.empty() ? "" : ", ") + n;
  return s;
}

struct choice {
  const backend::ops* ops;
  std::string name;
};

/// Resolve "name" or "a,b,c" to the first backend that loads; throws otherwise.
choice choose(std::string_view spec) {
  std::vector<std::string> names;
  for (std::size_t start = 0; start <= spec.size();) {
    const std::size_t end = std::min(spec.find(',', start), spec.size());
    std::string n(spec.substr(start, end - start));
    while (!n.empty() && n.back() == ' ') n.pop_back();
    while (!n.empty() && n.front() == ' ') n.erase(0, 1);
    if (!n.empty()) names.push_back(n);
    start = end + 1;
  }
  if (names.empty()) names.emplace_back("poll");
  std::string why;
  bool any_known = false;
  {
    std::lock_guard lock(registry_mutex);
    for (const auto& n : names) {
      if (!is_known(n)) {
        why += (why.empty() ? "" : "; ") + ("'" + n + "' is not a backend");
        continue;
      }
      any_known = true;
      const loaded& l = lookup(n);
      if (l.ops) return {l.ops, n};
      why += (why.empty() ? "" : "; ") + ("'" + n + "' cannot be loaded: " + l.error);
    }
  }
  throw error(make_error_code(any_known ? errc::backend_unavailable : errc::unknown_backend),
              "anyevent: no usable backend in \"" + std::string(spec) + "\" (" + why +
                  "); available backends: " + available_list() +
                  " (set ANYEVENT_BACKEND to one of them, or ANYEVENT_BACKEND_PATH to the folder of the modules)");
}

std::string env_backend() {
  const char* e = ::secure_getenv("ANYEVENT_BACKEND");
  return e ? e : "";
}

std::mutex default_mutex;
loop* default_instance = nullptr;  // never destroyed: watchers in static objects may outlive main

std::mutex loops_mutex;
std::vector<loop_impl*> live_loops;

}  // namespace

void register_loop(loop_impl* l) {
  std::lock_guard lock(loops_mutex);
  live_loops.push_back(l);
}

void unregister_loop(loop_impl* l) noexcept {
  std::lock_guard lock(loops_mutex);
  std::erase(live_loops, l);
}

void fd_closing(int fd) noexcept {
  std::lock_guard lock(loops_mutex);
  for (loop_impl* l : live_loops) {
    fd_entry* e = l->find(fd);
    if (e && e->shrink_queued) l->flush_shrink(*e);  // its watchers went: lower it now (note 8)
    if (e && e->mask == 0 && l->ops->io_forget) l->ops->io_forget(l->be, l->slot(fd), fd);
  }
}

loop adopt_native(std::string_view backend, void* native) {
  const choice c = choose(backend);
  return loop(loop_impl::make(c.ops, native, false));
}

}  // namespace ae::detail

namespace ae {

using namespace detail;

loop loop::create(std::string_view backend) {
  const std::string env = backend.empty() ? env_backend() : std::string();
  const choice c = choose(backend.empty() ? std::string_view(env) : backend);
  return loop(loop_impl::make(c.ops, nullptr, false));
}

loop& default_loop() {
  std::lock_guard lock(default_mutex);
  if (!default_instance) {
    const choice c = choose(env_backend());
    // A host that runs libev's or libuv's own default loop then drives ae's default loop.
    const bool wrap = c.name == "libev" || c.name == "libuv";
    default_instance = new loop(loop_impl::make(c.ops, nullptr, wrap));
  }
  return *default_instance;
}

void set_default_loop(loop l) {
  std::lock_guard lock(default_mutex);
  if (default_instance)
    throw error(make_error_code(errc::default_loop_exists),
                "ae::set_default_loop: the default loop is already in use; call it before anything uses default_loop()");
  default_instance = new loop(std::move(l));
}

std::vector<std::string> available_backends() {
  std::vector<std::string> r;
  std::lock_guard lock(registry_mutex);
  for (auto* n : known_backends)
    if (lookup(n).ops) r.emplace_back(n);
  return r;
}

std::vector<backend_info> describe_backends() {
  std::vector<backend_info> r;
  std::lock_guard lock(registry_mutex);
  for (auto* n : known_backends) {
    const loaded& l = lookup(n);
    backend_info b;
    b.name = n;
    b.available = l.ops != nullptr;
    b.where = l.ops ? l.path : "";
    b.error = l.error;
    if (l.ops && l.ops->version) b.version = l.ops->version();
    r.push_back(std::move(b));
  }
  return r;
}

std::string describe_selection() {
  const std::string env = env_backend();
  try {
    const choice c = choose(env);
    if (env.empty()) return "'" + c.name + "': ANYEVENT_BACKEND is not set, so the built-in loop is used";
    return "'" + c.name + "': first loadable backend in ANYEVENT_BACKEND=" + env;
  } catch (const std::exception& e) {
    return std::string("none: ") + e.what();
  }
}

}  // namespace ae
