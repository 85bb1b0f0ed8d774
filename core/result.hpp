#pragma once
// Errors are values inside Kiln's libraries: a function that can fail returns
// Result<T>, which holds either a T or an Error (code + human-readable message).
// std::expected is C++23; this is the small subset we need in C++20.

#include <cassert>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace kiln {

enum class ErrorCode {
  invalid_argument,   // the caller's input is wrong (bad plan, bad flag)
  parse,              // text or bytes could not be parsed
  not_found,          // an id, file or name that does not exist
  io,                 // file system or socket failure
  protocol,           // a peer broke the wire protocol
  auth,               // credential refused
  permission_denied,  // authenticated, but this credential may not do that (a viewer submitting, a rack speaking for
                      // another's chip)
  conflict,           // state does not allow it (run already finished, rack busy)
  unavailable,        // a resource that could not be reached or read
  internal,           // a bug: an invariant did not hold
};

const char* to_string(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::internal;
  std::string message;
};

template <typename... Args>
Error make_error(ErrorCode code, fmt::format_string<Args...> format, Args&&... args) {
  return Error{code, fmt::format(format, std::forward<Args>(args)...)};
}

template <typename T>
class Result;

namespace detail {
template <typename R>
struct is_result : std::false_type {};  // NOLINT(readability-identifier-naming): a trait, named as std's
template <typename U>
struct is_result<Result<U>> : std::true_type {};
}  // namespace detail

// Status: success or an Error. Defined before the primary template, whose
// members name Result<void>: clang instantiates it from there.
template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }

  template <typename F>
  auto and_then(F&& f) const {
    using R = std::invoke_result_t<F>;
    static_assert(detail::is_result<R>::value, "and_then: the function must return a Result");
    if (!ok_) return R(error_);
    return std::forward<F>(f)();
  }
  template <typename F>
  auto transform(F&& f) const {
    using U = std::invoke_result_t<F>;
    if constexpr (std::is_void_v<U>) {
      if (!ok_) return Result<void>(error_);
      std::forward<F>(f)();
      return Result<void>();
    } else {
      if (!ok_) return Result<U>(error_);
      return Result<U>(std::forward<F>(f)());
    }
  }
  template <typename F>
  Result or_else(F&& f) const {
    if (ok_) return *this;
    return std::forward<F>(f)(error_);
  }
  Result with_context(std::string_view context) const {
    if (ok_) return *this;
    return Error{error_.code, fmt::format("{}: {}", context, error_.message)};
  }

 private:
  Error error_;
  bool ok_ = true;
};

// The composition helpers follow std::expected (C++23):
//   and_then(f)   f(value) → Result<U>; an error passes through untouched
//   transform(f)  f(value) → U, wrapped; an error passes through
//   or_else(f)    f(error) → Result<T>; a value passes through
//   value_or(v)   the value, or v
// and KILN_TRY / KILN_TRY_ASSIGN below return an error to the caller.
template <typename T>
class [[nodiscard]] Result {
 public:
  using value_type = T;

  Result(T value) : data_(std::move(value)) {}      // NOLINT(google-explicit-constructor)
  Result(Error error) : data_(std::move(error)) {}  // NOLINT(google-explicit-constructor)

  bool ok() const { return data_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(data_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(data_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(data_));
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

  const Error& error() const {
    assert(!ok());
    return std::get<1>(data_);
  }

  template <typename U>
  T value_or(U&& fallback) const& {
    return ok() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

  template <typename F>
  auto and_then(F&& f) const& {
    using R = std::invoke_result_t<F, const T&>;
    static_assert(detail::is_result<R>::value, "and_then: the function must return a Result");
    if (!ok()) return R(error());
    return std::forward<F>(f)(value());
  }
  template <typename F>
  auto and_then(F&& f) && {
    using R = std::invoke_result_t<F, T&&>;
    static_assert(detail::is_result<R>::value, "and_then: the function must return a Result");
    if (!ok()) return R(error());
    return std::forward<F>(f)(std::move(*this).value());
  }

  template <typename F>
  auto transform(F&& f) const& {
    using U = std::invoke_result_t<F, const T&>;
    if constexpr (std::is_void_v<U>) {
      if (!ok()) return Result<void>(error());
      std::forward<F>(f)(value());
      return Result<void>();
    } else {
      if (!ok()) return Result<U>(error());
      return Result<U>(std::forward<F>(f)(value()));
    }
  }
  template <typename F>
  auto transform(F&& f) && {
    using U = std::invoke_result_t<F, T&&>;
    if constexpr (std::is_void_v<U>) {
      if (!ok()) return Result<void>(error());
      std::forward<F>(f)(std::move(*this).value());
      return Result<void>();
    } else {
      if (!ok()) return Result<U>(error());
      return Result<U>(std::forward<F>(f)(std::move(*this).value()));
    }
  }

  template <typename F>
  Result or_else(F&& f) const& {
    if (ok()) return *this;
    return std::forward<F>(f)(error());
  }
  template <typename F>
  Result or_else(F&& f) && {
    if (ok()) return std::move(*this);
    return std::forward<F>(f)(error());
  }

  // The error with `context: ` in front of its message, a value unchanged.
  Result with_context(std::string_view context) && {
    if (ok()) return std::move(*this);
    return Error{error().code, fmt::format("{}: {}", context, error().message)};
  }

 private:
  std::variant<T, Error> data_;
};

using Status = Result<void>;

}  // namespace kiln

// Returns the error of a Result or Status expression from the enclosing
// function (which returns a Result or Status); goes on when it holds a value.
//   KILN_TRY(store.migrate());
#define KILN_TRY(expr)                                            \
  do {                                                            \
    if (auto kiln_try_result_ = (expr); !kiln_try_result_.ok()) { \
      return kiln_try_result_.error();                            \
    }                                                             \
  } while (false)

#define KILN_TRY_CONCAT_INNER_(a, b) a##b
#define KILN_TRY_CONCAT_(a, b) KILN_TRY_CONCAT_INNER_(a, b)
// Declares `decl` from a Result's value, or returns its error:
//   KILN_TRY_ASSIGN(auto plan, load_plan(text));
//   KILN_TRY_ASSIGN(const Lab& lab, labs.find(name));
#define KILN_TRY_ASSIGN(decl, expr) KILN_TRY_ASSIGN_IMPL_(KILN_TRY_CONCAT_(kiln_try_, __LINE__), decl, expr)
// NOLINTBEGIN(bugprone-macro-parentheses): `decl` is a declaration, `tmp` a name.
#define KILN_TRY_ASSIGN_IMPL_(tmp, decl, expr) \
  auto tmp = (expr);                           \
  if (!tmp.ok()) return tmp.error();           \
  decl = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)
