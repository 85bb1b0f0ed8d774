// Fuzz target: the telemetry chunk decoder (schema/telemetry_chunk.hpp).
//
// Input: the bytes of a chunk, as the store would read a blob. Checked: the
// decoder answers (series or an error) without crashing or allocating past
// its caps; and whatever it decodes encodes back into a chunk that decodes
// to the same series, bit for bit (values compared as bits, NaN included).

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_support.hpp"
#include "schema/telemetry_chunk.hpp"

namespace {

using kiln::store::chunk::Series;

bool same(const std::vector<Series>& a, const std::vector<Series>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].metric_id != b[i].metric_id || a[i].points.size() != b[i].points.size()) return false;
    for (std::size_t j = 0; j < a[i].points.size(); ++j) {
      const auto& p = a[i].points[j];
      const auto& q = b[i].points[j];
      if (p.t_us != q.t_us || p.wall_unix_ms != q.wall_unix_ms) return false;
      if (std::bit_cast<std::uint64_t>(p.value) != std::bit_cast<std::uint64_t>(q.value)) return false;
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto decoded = kiln::store::chunk::decode(bytes);
  if (!decoded) return 0;
  const auto again = kiln::store::chunk::decode(kiln::store::chunk::encode(*decoded, 1));
  if (!again)
    kiln::fuzz::fail(__FILE__, __LINE__, "a decoded chunk re-encoded does not decode: " + again.error().message);
  if (!same(*decoded, *again)) kiln::fuzz::fail(__FILE__, __LINE__, "a decoded chunk re-encoded decodes differently");
  return 0;
}
