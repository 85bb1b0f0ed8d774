#pragma once
// Helpers for the loader tests: load a plan from text with the built-in
// patterns, and check that an error is reported at an exact position.

#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "testplans/loader.hpp"

namespace kiln::plan::testing {

inline const PatternRegistry& builtin_registry() {
  static const PatternRegistry registry = [] {
    PatternRegistry r;
    register_builtin_patterns(r);
    return r;
  }();
  return registry;
}

inline LoadResult load(std::string_view text) { return load_plan(text, "p.yaml", builtin_registry()); }

// Every diagnostic, one per line, as a user sees them.
inline std::string all_messages(const LoadResult& result) {
  std::string out;
  for (const auto& d : result.diagnostics) out += d.to_string() + "\n";
  return out;
}

// Passes when one diagnostic reads exactly `expected` ("p.yaml:3:5: message").
inline ::testing::AssertionResult has_error(const LoadResult& result, std::string_view expected) {
  for (const auto& d : result.diagnostics) {
    if (d.to_string() == expected) return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "no diagnostic\n  " << expected << "\namong\n" << all_messages(result);
}

// Passes when the only diagnostic reads exactly `expected`, and no plan came back.
inline ::testing::AssertionResult only_error(const LoadResult& result, std::string_view expected) {
  if (result.plan) return ::testing::AssertionFailure() << "a plan was returned despite errors";
  if (result.diagnostics.size() == 1 && result.diagnostics[0].to_string() == expected) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "expected only\n  " << expected << "\ngot\n" << all_messages(result);
}

}  // namespace kiln::plan::testing
