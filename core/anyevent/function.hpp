// ae::unique_function — a move-only type-erased callable with inline storage.
//
// Why not std::function: it refuses move-only lambdas and allocates for captures larger than
// two pointers. Watchers store their callback here, so a lambda capturing up to three
// pointers (or references) costs no allocation beyond the watcher block itself; three keeps
// an io watcher within its memory budget (DESIGN §7).
#pragma once

#include <cstddef>
#include <functional>
#include <new>
#include <type_traits>
#include <utility>

namespace ae {

template <class Sig, std::size_t InlineBytes = 3 * sizeof(void*)>
class unique_function;

template <class R, class... Args, std::size_t InlineBytes>
class unique_function<R(Args...), InlineBytes> {
  struct vtable {
    R (*call)(void* self, Args&&... args);
    void (*move_destroy)(void* from, void* to) noexcept;  // to == nullptr: destroy only
  };

  template <class F>
  static constexpr bool fits_inline = sizeof(F) <= InlineBytes &&
                                      alignof(F) <= alignof(void*) &&
                                      std::is_nothrow_move_constructible_v<F>;

  template <class F>
  static constexpr vtable inline_vtable{
      [](void* self, Args&&... args) -> R {
        return std::invoke(*static_cast<F*>(self), std::forward<Args>(args)...);
      },
      [](void* from, void* to) noexcept {
        auto* f = static_cast<F*>(from);
        if (to) ::new (to) F(std::move(*f));
        f->~F();
      }};

  template <class F>
  static constexpr vtable heap_vtable{
      [](void* self, Args&&... args) -> R {
        return std::invoke(**static_cast<F**>(self), std::forward<Args>(args)...);
      },
      [](void* from, void* to) noexcept {
        auto** f = static_cast<F**>(from);
        if (to)
          ::new (to) F*(*f);
        else
          delete *f;
      }};

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
    if constexpr (fits_inline<D>) {
      ::new (static_cast<void*>(storage_)) D(std::forward<F>(f));
      vt_ = &inline_vtable<D>;
    } else {
      ::new (static_cast<void*>(storage_)) D*(new D(std::forward<F>(f)));
      vt_ = &heap_vtable<D>;
    }
  }

  unique_function(unique_function&& o) noexcept : vt_(o.vt_) {
    if (vt_) vt_->move_destroy(o.storage_, storage_);
    o.vt_ = nullptr;
  }
  unique_function& operator=(unique_function&& o) noexcept {
    if (this != &o) {
      reset();
      vt_ = o.vt_;
      if (vt_) vt_->move_destroy(o.storage_, storage_);
      o.vt_ = nullptr;
    }
    return *this;
  }
  ~unique_function() { reset(); }

  void reset() noexcept {
    if (auto* v = std::exchange(vt_, nullptr)) v->move_destroy(storage_, nullptr);
  }
  explicit operator bool() const noexcept { return vt_ != nullptr; }

  /// Calls the target. The target may destroy this object while it runs; nothing here
  /// touches *this after the call returns.
  R operator()(Args... args) { return vt_->call(storage_, std::forward<Args>(args)...); }

 private:
  const vtable* vt_ = nullptr;
  alignas(void*) std::byte storage_[InlineBytes];
};

}  // namespace ae
