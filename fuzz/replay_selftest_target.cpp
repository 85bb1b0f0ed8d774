// A target whose invariant fails on purpose, for the test that shows a
// failed invariant fails the replay test (Fuzz.ReplayFailsWhenAnInvariantFails):
// it holds for every input but those that begin with "KILN".

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  KILN_FUZZ_CHECK(!text.starts_with("KILN"), "the input begins with KILN ({} bytes)", size);
  return 0;
}
