#pragma once
// Helpers shared by the device tests: the shipped SKU catalog, lab text
// loading with its diagnostics, and finding where a token sits in a text
// so that tests can demand errors at an exact line:col.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "device/lab.hpp"
#include "device/sku.hpp"

namespace kiln::device::test {

inline std::string source_path(std::string_view relative) {
  return std::string(KILN_SOURCE_DIR) + "/" + std::string(relative);
}

inline const SkuCatalog& shipped_catalog() {
  static const SkuCatalog catalog = [] {
    auto loaded = SkuCatalog::load_directory(source_path("device/skus"));
    if (!loaded) ADD_FAILURE() << loaded.error().message;
    return loaded ? std::move(*loaded) : SkuCatalog{};
  }();
  return catalog;
}

inline const Sku& trn2() { return *shipped_catalog().find("trn2-sim"); }
inline const Sku& h100() { return *shipped_catalog().find("h100-sim"); }

// "line:col" of the n-th (0-based) occurrence of `needle` in `text`, plus
// `offset` characters into it (to point at a value after its key).
inline std::string position_of(std::string_view text, std::string_view needle, int occurrence = 0,
                               std::size_t offset = 0) {
  std::size_t at = text.find(needle);
  for (int i = 0; i < occurrence && at != std::string_view::npos; ++i) at = text.find(needle, at + 1);
  if (at == std::string_view::npos) return "not-found";
  at += offset;
  int line = 1, column = 1;
  for (std::size_t i = 0; i < at; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return std::to_string(line) + ":" + std::to_string(column);
}

struct LabLoad {
  std::optional<Lab> lab;
  std::vector<std::string> errors;  // "lab.yaml:line:col: message"
};

inline LabLoad load_lab_text(std::string_view text, const SkuCatalog& catalog = shipped_catalog()) {
  yaml::Diagnostics diagnostics("lab.yaml");
  LabLoad out;
  out.lab = load_lab(text, diagnostics, catalog);
  for (const auto& d : diagnostics.list()) out.errors.push_back(d.to_string());
  return out;
}

// Success when some error sits exactly at `position` and contains `fragment`.
inline ::testing::AssertionResult has_error_at(const std::vector<std::string>& errors, const std::string& position,
                                               std::string_view fragment) {
  const std::string prefix = "lab.yaml:" + position + ": ";
  for (const auto& e : errors) {
    if (e.rfind(prefix, 0) == 0 && e.find(fragment) != std::string::npos) return ::testing::AssertionSuccess();
  }
  auto failure = ::testing::AssertionFailure()
                 << "no error at " << position << " containing '" << fragment << "'; got:";
  for (const auto& e : errors) failure << "\n  " << e;
  return failure;
}

}  // namespace kiln::device::test
