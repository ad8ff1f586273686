// ae::unique_function — a move-only type-erased callable with inline storage.
//
// Why not std::function: it refuses move-only lambdas and allocates for captures larger than
// two pointers. Signal, child, idle and async watchers store their callback here, so a lambda
// capturing up to three pointers (or references) costs no allocation beyond the watcher
// block itself. io and timer watchers, started by the thousand, build theirs in place in
// their block instead (io.hpp, timer.hpp), with the same callable_ops.
#pragma once

#include <cstddef>
#include <cstring>
#include <functional>
#include <new>
#include <type_traits>
#include <utility>

namespace ae {

namespace detail {

/// How a type-erased callable is called and relocated; one constant table per type. Shared
/// by unique_function and by watcher blocks that build the callable in place (io.hpp,
/// timer.hpp).
template <class R, class... Args>
struct callable_ops {
  R (*call)(void* self, Args&&... args);
  /// Moves *from to `to` (nullptr: only destroys *from). nullptr: the type is trivially
  /// copyable and destructible, so a byte copy relocates it and nothing destroys it.
  void (*move_destroy)(void* from, void* to) noexcept;
};

template <class F>
inline constexpr bool trivially_relocatable =
    std::is_trivially_copyable_v<F> && std::is_trivially_destructible_v<F>;

/// The callable lives in the storage itself.
template <class F, class R, class... Args>
inline constexpr callable_ops<R, Args...> inline_ops{
    [](void* self, Args&&... args) -> R { return std::invoke(*static_cast<F*>(self), std::forward<Args>(args)...); },
    trivially_relocatable<F> ? nullptr : +[](void* from, void* to) noexcept {
      auto* f = static_cast<F*>(from);
      if (to) ::new (to) F(std::move(*f));
      f->~F();
    }};

/// The storage holds an F* to a heap copy.
template <class F, class R, class... Args>
inline constexpr callable_ops<R, Args...> heap_ops{
    [](void* self, Args&&... args) -> R { return std::invoke(**static_cast<F**>(self), std::forward<Args>(args)...); },
    [](void* from, void* to) noexcept {
      auto** f = static_cast<F**>(from);
      if (to)
        ::new (to) F*(*f);
      else
        delete *f;
    }};

/// F can live in `bytes` of pointer-aligned storage (and be moved there without throwing).
template <class F>
inline constexpr bool fits_inline(std::size_t bytes) {
  return sizeof(F) <= bytes && alignof(F) <= alignof(void*) && std::is_nothrow_move_constructible_v<F>;
}

}  // namespace detail

template <class Sig, std::size_t InlineBytes = 3 * sizeof(void*)>
class unique_function;

template <class R, class... Args, std::size_t InlineBytes>
class unique_function<R(Args...), InlineBytes> {
  using ops = detail::callable_ops<R, Args...>;

 public:
  unique_function() noexcept = default;
  unique_function(std::nullptr_t) noexcept {}

  template <class F>
    requires(!std::is_same_v<std::remove_cvref_t<F>, unique_function> &&
             std::is_invocable_r_v<R, std::decay_t<F>&, Args...>)
  unique_function(F&& f) {  // NOLINT: implicit, like std::function
    using D = std::decay_t<F>;
    if constexpr (std::is_pointer_v<D> || std::is_member_pointer_v<D>) {
      if (!f) return;
    }
    if constexpr (detail::fits_inline<D>(InlineBytes)) {
      ::new (static_cast<void*>(storage_)) D(std::forward<F>(f));
      vt_ = &detail::inline_ops<D, R, Args...>;
    } else {
      ::new (static_cast<void*>(storage_)) D*(new D(std::forward<F>(f)));
      vt_ = &detail::heap_ops<D, R, Args...>;
    }
  }

  unique_function(unique_function&& o) noexcept : vt_(o.vt_) {
    if (vt_) relocate(o.storage_, storage_);
    o.vt_ = nullptr;
  }
  unique_function& operator=(unique_function&& o) noexcept {
    if (this != &o) {
      reset();
      vt_ = o.vt_;
      if (vt_) relocate(o.storage_, storage_);
      o.vt_ = nullptr;
    }
    return *this;
  }
  ~unique_function() { reset(); }

  void reset() noexcept {
    if (auto* v = std::exchange(vt_, nullptr))
      if (v->move_destroy) v->move_destroy(storage_, nullptr);
  }
  explicit operator bool() const noexcept { return vt_ != nullptr; }

  /// Calls the target. The target may destroy this object while it runs; nothing here
  /// touches *this after the call returns.
  R operator()(Args... args) { return vt_->call(storage_, std::forward<Args>(args)...); }

 private:
  void relocate(std::byte* from, std::byte* to) noexcept {
    if (vt_->move_destroy) vt_->move_destroy(from, to);
    else std::memcpy(to, from, InlineBytes);
  }

  const ops* vt_ = nullptr;
  alignas(void*) std::byte storage_[InlineBytes];
};

}  // namespace ae
