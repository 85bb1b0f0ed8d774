#pragma once
// The compressed telemetry chunk (docs/telemetry-storage.md): the samples of
// one chip in one step, every metric, sealed into one blob. A pure codec:
// series in, bytes out; bytes in, series or an error out. Every length read
// from the bytes is checked against what is left, so a corrupt or hostile
// blob is an error, never a crash or a huge allocation (it is fuzzed).
//
// Layout (all integers LEB128 varints, signed ones zigzagged):
//   "KTC" 0x01 | raw size | zstd frame of the raw bytes
//   "KTC" 0x02 | map count | map ids | raw size | zstd frame: a chunk encoded
//        elsewhere (by an agent) with its own metric ids 0..n-1, stored with
//        the map from those to the store's ids, so it is kept as it came
//        (no second compression); decode() hands back the mapped ids.
//   raw: series count, then per series: metric id, encoding (0 raw doubles,
//        1 quantised), scale (quantised only), point count, then columns:
//        t_us (first, then delta-of-delta), wall_unix_ms (the same), values
//        (quantised: first q then deltas of q; raw: the bits XOR the previous).
// A quantised value is q / scale: scale 100 keeps 0.01 exactly as the
// nearest double to a two-decimal number, so the decimal text round-trips.

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace kiln::store::chunk {

struct Point {
  std::int64_t t_us = 0;  // the sample's t_s in microseconds
  std::int64_t wall_unix_ms = 0;
  double value = 0;  // NaN allowed (kept by the raw encoding)
};

struct Series {
  std::uint32_t metric_id = 0;
  // Values kept as q / scale (q an integer); 0 keeps the exact doubles.
  std::uint32_t scale = 0;
  std::vector<Point> points;
};

// Decoding refuses more than this (raw bytes before compression).
inline constexpr std::size_t kMaxRawBytes = 64u << 20;
inline constexpr std::size_t kMaxSeries = 4096;

// 1/precision when that is a whole number up to 10^9 (0.01 -> 100, 1 -> 1);
// 0 when the precision is not of that form (the values are kept exact).
std::uint32_t scale_for_precision(double precision);

// The finest grid a chunk keeps (1/10^9) and the largest quantum on it:
// |q| below 2^48, so q / scale times scale rounds back to q, with room to spare.
inline constexpr std::uint32_t kMaxScale = 1'000'000'000;
inline constexpr double kMaxQuantum = 281474976710656.0;  // 2^48

// The value as it is stored at `scale`: the nearest multiple of 1/scale.
// NaN, infinities and values too large for the grid stay as they are.
// Inline: agents call it for every value they sample.
inline double quantised(double value, std::uint32_t scale) {
  if (scale == 0 || scale > kMaxScale || !std::isfinite(value) || std::fabs(value * scale) >= kMaxQuantum) return value;
  return std::round(value * scale) / scale;
}

// Series are encoded at their scale; one whose values are not all finite
// and representable on its grid falls back to the exact raw encoding, so
// encode(x) then decode gives quantised(x) back, bit for bit.
// `checksum`: the zstd frame carries a checksum of the raw bytes (XXH64,
// 4 bytes), which decode() checks: what an agent sends, so a chunk damaged
// on the way is refused rather than stored with wrong values.
std::string encode(const std::vector<Series>& series, int zstd_level = 9, bool checksum = false);
// Without the zstd pass (for measuring; the same raw layout).
std::string encode_raw(const std::vector<Series>& series);

Result<std::vector<Series>> decode(std::string_view bytes);

namespace detail {
// The most bytes a LEB128 varint of 64 bits takes.
inline constexpr std::size_t kMaxVarintBytes = 10;

// Writes `v` as a LEB128 varint at `at` (which has room for
// kMaxVarintBytes) and returns the end: the one varint writer of the codec.
inline char* write_varint(char* at, std::uint64_t v) {
  while (v >= 0x80) {
    *at++ = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  *at++ = static_cast<char>(v);
  return at;
}

// Varints appended to a buffer that grows by doubling; each put is a few
// stores (SeriesColumns::add runs for every value an agent samples).
class VarintColumn {
 public:
  void put(std::uint64_t v) {
    if (bytes_.size() - used_ < kMaxVarintBytes) bytes_.resize(bytes_.size() < 64 ? 64 : 2 * bytes_.size());
    used_ = static_cast<std::size_t>(write_varint(bytes_.data() + used_, v) - bytes_.data());
  }
  std::string_view bytes() const { return {bytes_.data(), used_}; }
  void clear() { used_ = 0; }  // the storage stays

 private:
  std::vector<char> bytes_;  // its size is the capacity; used_ of it written
  std::size_t used_ = 0;
};
}  // namespace detail

// The ticks of one chunk: the times an agent samples a chip-step at, each
// once. A series sampled at every tick since its first shares their time
// columns, written once a tick instead of once a value (the agent's per-value
// cost is mostly stores to cold columns); it takes a copy of its own when it
// misses a tick or gets two values in one.
class TickTimes {
 public:
  // The tick at these times: the latest when it is the same, else a new one.
  std::uint32_t at(std::int64_t t_us, std::int64_t wall_unix_ms) {
    if (!t_us_.empty() && t_us_.back() == t_us && wall_.back() == wall_unix_ms) {
      return static_cast<std::uint32_t>(t_us_.size() - 1);
    }
    return add(t_us, wall_unix_ms);
  }
  std::size_t size() const { return t_us_.size(); }
  std::int64_t t_us(std::uint32_t tick) const { return t_us_[tick]; }
  std::int64_t wall_unix_ms(std::uint32_t tick) const { return wall_[tick]; }
  // The time columns of a series holding exactly the ticks [first, first + count).
  void append_columns(std::string& raw, std::uint32_t first, std::size_t count) const;
  void clear();

 private:
  std::uint32_t add(std::int64_t t_us, std::int64_t wall_unix_ms);

  std::vector<std::int64_t> t_us_, wall_;
  // Delta-of-delta of consecutive ticks; tick i's varint ends at *_end_[i].
  detail::VarintColumn t_column_, wall_column_;
  std::vector<std::uint32_t> t_end_, wall_end_;
  std::int64_t last_t_delta_ = 0, last_wall_delta_ = 0;
};

// One series' raw columns built value by value, as an agent samples it: a
// few bytes a value instead of a Point, and no second pass to encode. The
// bytes are those encode() lays out for the same points, bit for bit: each
// value quantised() at `scale`, and the whole series in the exact raw
// encoding from the first value off the grid on, as encode() decides for a
// whole series (tests/schema/telemetry_chunk_test.cpp compares the two).
// A chunk's values come either all with their times or all at ticks of one
// TickTimes, which encode() is then given.
class alignas(64) SeriesColumns {
 public:
  explicit SeriesColumns(std::uint32_t scale);

  void add(std::int64_t t_us, std::int64_t wall_unix_ms, double value);
  // One value at `tick` of `ticks` (from ticks.at()).
  void add(const TickTimes& ticks, std::uint32_t tick, double value) {
    if (points_ == 0) {
      on_ticks_ = true;
      first_tick_ = tick;
    } else if (!on_ticks_ || tick != first_tick_ + points_) {
      if (on_ticks_) own_times(ticks);
      push_times(ticks.t_us(tick), ticks.wall_unix_ms(tick));
    }
    ++points_;
    add_value(value);
  }
  std::size_t size() const { return points_; }
  std::uint32_t scale() const { return scale_; }
  // Empties it; its buffers keep their storage for the next chunk.
  void clear();

 private:
  friend std::string encode(const std::vector<const SeriesColumns*>& series, const TickTimes* ticks, int zstd_level,
                            bool checksum);
  void add_value(double value);
  void push_times(std::int64_t t_us, std::int64_t wall_unix_ms);
  void own_times(const TickTimes& ticks);  // its ticks' times copied into its own columns
  void append_to(std::string& raw, std::uint32_t metric_id, const TickTimes* ticks) const;
  void leave_grid();  // re-encodes the values so far as exact doubles
  static bool grid_scale(std::uint32_t scale) { return scale != 0 && scale <= kMaxScale; }

  // What every value touches, the object's first 64 bytes: one cache line
  // (an agent adds to a few thousand series a tick, none of them in cache).
  std::uint32_t scale_;
  bool grid_;
  bool on_ticks_ = false;  // its times are its ticks' [first_tick_, first_tick_ + points_)
  std::uint32_t first_tick_ = 0;
  std::uint32_t points_ = 0;     // an agent's chunk holds 16384 values
  std::int64_t last_q_ = 0;      // on the grid
  std::uint64_t last_bits_ = 0;  // off it
  detail::VarintColumn values_;
  std::int64_t last_t_us_ = 0, last_t_delta_ = 0;
  std::int64_t last_wall_ = 0, last_wall_delta_ = 0;
  detail::VarintColumn t_us_, wall_;
};

// A chunk of `series` in this order, series i with metric id i: what
// encode() gives for the same points. `ticks`: those the series' values
// were added at, if they were.
std::string encode(const std::vector<const SeriesColumns*>& series, const TickTimes* ticks, int zstd_level = 9,
                   bool checksum = false);
inline std::string encode(const std::vector<const SeriesColumns*>& series, int zstd_level = 9, bool checksum = false) {
  return encode(series, nullptr, zstd_level, checksum);
}

// A version-1 chunk whose series ids are indices into `ids`, re-framed as
// version 2 carrying that map: its zstd frame is copied, not recompressed.
Result<std::string> with_metric_map(std::string_view chunk, const std::vector<std::uint32_t>& ids);

// One series' figures, of its values that are not NaN (count 0: all NaN).
struct SeriesStats {
  std::uint64_t count = 0;
  double min = 0, max = 0, sum = 0;
  double last = 0;  // the last point's value (NaN allowed); 0 when there are no points
  std::int64_t first_t_us = 0, last_t_us = 0, last_wall_unix_ms = 0;
};
SeriesStats stats_of(const Series& series);

// What the store keeps of a series besides its bytes: its figures (the
// roll-up) and the span of its times.
struct SeriesSummary {
  std::uint32_t metric_id = 0;
  std::uint32_t scale = 0;
  std::uint64_t points = 0;
  SeriesStats stats;
  std::int64_t min_t_us = 0, max_t_us = 0;  // 0 when there are no points
};
SeriesSummary summary_of(const Series& series);
// summary_of() of every series decode() would give, without building the
// points: the same checks, the same errors, a fraction of the memory (what
// kilnd does with a chunk it stores as it came).
Result<std::vector<SeriesSummary>> summarise(std::string_view bytes);

}  // namespace kiln::store::chunk
