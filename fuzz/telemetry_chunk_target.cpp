// Fuzz target: the telemetry chunk decoder (schema/telemetry_chunk.hpp).
//
// Input: the bytes of a chunk, as the store would read a blob. Checked: the
// decoder answers (series or an error) without crashing or allocating past
// its caps; summarise() (what kilnd runs on every agent chunk) accepts
// exactly what decode() accepts and gives the decoded series' figures; and
// whatever it decodes encodes back into a chunk that decodes to the same
// series, bit for bit (values compared as bits, NaN included).

#include <bit>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz/fuzz_support.hpp"
#include "schema/telemetry_chunk.hpp"

namespace {

using kiln::store::chunk::Series;

bool same_bits(double a, double b) { return std::bit_cast<std::uint64_t>(a) == std::bit_cast<std::uint64_t>(b); }

bool same_summary(const kiln::store::chunk::SeriesSummary& a, const kiln::store::chunk::SeriesSummary& b) {
  return a.metric_id == b.metric_id && a.scale == b.scale && a.points == b.points && a.min_t_us == b.min_t_us &&
         a.max_t_us == b.max_t_us && a.stats.count == b.stats.count && same_bits(a.stats.min, b.stats.min) &&
         same_bits(a.stats.max, b.stats.max) && same_bits(a.stats.sum, b.stats.sum) &&
         same_bits(a.stats.last, b.stats.last) && a.stats.first_t_us == b.stats.first_t_us &&
         a.stats.last_t_us == b.stats.last_t_us && a.stats.last_wall_unix_ms == b.stats.last_wall_unix_ms;
}

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
  const auto summaries = kiln::store::chunk::summarise(bytes);
  if (decoded.ok() != summaries.ok()) kiln::fuzz::fail(__FILE__, __LINE__, "summarise and decode disagree on a chunk");
  if (!decoded) return 0;
  if (summaries->size() != decoded->size()) kiln::fuzz::fail(__FILE__, __LINE__, "summarise lost a series");
  for (std::size_t i = 0; i < decoded->size(); ++i) {
    if (!same_summary((*summaries)[i], kiln::store::chunk::summary_of((*decoded)[i]))) {
      kiln::fuzz::fail(__FILE__, __LINE__, "a summary differs from the decoded series' figures");
    }
  }
  const auto again = kiln::store::chunk::decode(kiln::store::chunk::encode(*decoded, 1));
  if (!again)
    kiln::fuzz::fail(__FILE__, __LINE__, "a decoded chunk re-encoded does not decode: " + again.error().message);
  if (!same(*decoded, *again)) kiln::fuzz::fail(__FILE__, __LINE__, "a decoded chunk re-encoded decodes differently");
  return 0;
}
