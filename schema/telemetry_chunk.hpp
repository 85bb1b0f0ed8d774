#pragma once
// The compressed telemetry chunk (docs/telemetry-storage.md): the samples of
// one chip in one step, every metric, sealed into one blob. A pure codec:
// series in, bytes out; bytes in, series or an error out. Every length read
// from the bytes is checked against what is left, so a corrupt or hostile
// blob is an error, never a crash or a huge allocation (it is fuzzed).
//
// Layout (all integers LEB128 varints, signed ones zigzagged):
//   "KTC" 0x01 | raw size | zstd frame of the raw bytes
//   raw: series count, then per series: metric id, encoding (0 raw doubles,
//        1 quantised), scale (quantised only), point count, then columns:
//        t_us (first, then delta-of-delta), wall_unix_ms (the same), values
//        (quantised: first q then deltas of q; raw: the bits XOR the previous).
// A quantised value is q / scale: scale 100 keeps 0.01 exactly as the
// nearest double to a two-decimal number, so the decimal text round-trips.

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

// The value as it is stored at `scale`: the nearest multiple of 1/scale.
// NaN, infinities and values too large for the grid stay as they are.
double quantised(double value, std::uint32_t scale);

// Series are encoded at their scale; one whose values are not all finite
// and representable on its grid falls back to the exact raw encoding, so
// encode(x) then decode gives quantised(x) back, bit for bit.
std::string encode(const std::vector<Series>& series, int zstd_level = 9);
// Without the zstd pass (for measuring; the same raw layout).
std::string encode_raw(const std::vector<Series>& series);

Result<std::vector<Series>> decode(std::string_view bytes);

}  // namespace kiln::store::chunk
