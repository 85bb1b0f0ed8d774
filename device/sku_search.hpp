#pragma once
// Where a lab's SKU files are (docs/simulation.md): a lab file anywhere
// finds the shipped SKUs. In order, the first directory that exists:
//   1. the directory given (`--skus`); given but missing is an error, never
//      a silent fallback;
//   2. each entry of $KILN_SKU_PATH (':'-separated);
//   3. next to the lab: <lab dir>/skus, then <lab dir>/../skus (the
//      source tree's device/labs → device/skus);
//   4. the installed copy: <program dir>/../share/kiln/skus, then the
//      install prefix's share/kiln/skus;
//   5. this build's source tree (device/skus), for binaries run from the
//      build directory.

#include <string>
#include <vector>

#include "core/result.hpp"

namespace kiln::device {

struct SkuSearch {
  std::string given;                                    // --skus; empty when not given
  std::string env;                                      // $KILN_SKU_PATH; empty when unset
  std::string lab_path;                                 // the lab file
  std::string program_path;                             // argv[0] or /proc/self/exe; empty to skip
  std::vector<std::string> fixed = builtin_sku_dirs();  // 4b and 5

  static std::vector<std::string> builtin_sku_dirs();
};

// The directories tried, in order (for messages and tests).
std::vector<std::string> sku_search_path(const SkuSearch& search);

// not_found naming every place tried when none exists.
Result<std::string> find_sku_directory(const SkuSearch& search);

// $KILN_SKU_PATH, or empty.
std::string sku_path_from_environment();

// This process's executable (/proc/self/exe), or empty when unreadable.
std::string this_program_path();

}  // namespace kiln::device
