#pragma once
// The chunk codec's varints and column arithmetic, shared by its two
// sources (telemetry_chunk.cpp: encode, decode; series_columns.cpp: the
// agents' value-by-value columns) so both write the same bytes. Private to
// the codec: not published to other targets.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "core/result.hpp"
#include "schema/telemetry_chunk.hpp"

namespace kiln::store::chunk::codec {

constexpr std::uint8_t kRawEncoding = 0;
constexpr std::uint8_t kQuantisedEncoding = 1;

inline std::uint64_t zigzag(std::int64_t v) {
  const auto u = static_cast<std::uint64_t>(v);
  return (u << 1) ^ (v < 0 ? ~std::uint64_t{0} : 0);
}
inline std::int64_t unzigzag(std::uint64_t u) { return static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1)); }

// Differences taken in unsigned arithmetic: wrap-around is defined, and
// decoding wraps back the same way.
inline std::int64_t minus(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) - static_cast<std::uint64_t>(b));
}
inline std::int64_t plus(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
}

using detail::kMaxVarintBytes;

// Writes varints into a buffer grown once to the most they can take, so the
// per-value work is a few stores (encoding is the agents' hot path).
class VarintWriter {
 public:
  VarintWriter(std::string& out, std::size_t most_varints) : out_(out), start_(out.size()) {
    out_.resize(start_ + most_varints * kMaxVarintBytes);
    at_ = out_.data() + start_;
  }
  void put(std::uint64_t v) { at_ = detail::write_varint(at_, v); }
  // Cuts the buffer to what was written.
  void finish() { out_.resize(static_cast<std::size_t>(at_ - out_.data())); }

 private:
  std::string& out_;
  std::size_t start_;
  char* at_ = nullptr;
};

template <typename Get>
void put_delta_of_delta(VarintWriter& out, std::size_t n, Get get) {
  std::int64_t previous = 0, previous_delta = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t value = get(i);
    const std::int64_t delta = minus(value, previous);
    out.put(zigzag(minus(delta, previous_delta)));
    previous = value;
    previous_delta = delta;
  }
}

inline bool fits_grid(const Series& series) {
  if (series.scale == 0 || series.scale > kMaxScale) return false;  // as SeriesColumns::grid_scale
  for (const Point& p : series.points) {
    if (!std::isfinite(p.value) || std::fabs(p.value * series.scale) >= kMaxQuantum) return false;
  }
  return true;
}

// Reads what VarintWriter wrote; every read is checked against the end. On
// a failure it keeps the reason and answers false (decoding is kilnd's hot
// path: no Result per value).
class Cursor {
 public:
  explicit Cursor(std::string_view bytes) : at_(bytes.data()), end_(bytes.data() + bytes.size()) {}
  std::size_t left() const { return static_cast<std::size_t>(end_ - at_); }
  // Inline, with a path for the usual case of a varint that ends well
  // before the buffer does (no end check per byte).
  [[gnu::always_inline]] bool varint(std::uint64_t& v) {
    // Most of a chunk's varints are one byte (a steady tick's times, a
    // slow value's deltas).
    if (at_ != end_ && (static_cast<std::uint8_t>(*at_) & 0x80) == 0) {
      v = static_cast<std::uint8_t>(*at_++);
      return true;
    }
    if (end_ - at_ >= static_cast<std::ptrdiff_t>(kMaxVarintBytes)) {
      std::uint64_t out = 0;
      for (int shift = 0; shift < 63; shift += 7) {
        const auto byte = static_cast<std::uint8_t>(*at_++);
        out |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0) {
          v = out;
          return true;
        }
      }
      // The tenth byte holds bit 63 only.
      const auto byte = static_cast<std::uint8_t>(*at_++);
      if (byte > 1) return refuse("telemetry chunk: varint over 64 bits");
      v = out | (static_cast<std::uint64_t>(byte) << 63);
      return true;
    }
    return checked_varint(v);
  }
  bool checked_varint(std::uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (at_ == end_) return refuse("telemetry chunk: truncated");
      const auto byte = static_cast<std::uint8_t>(*at_++);
      if (shift == 63 && byte > 1) return refuse("telemetry chunk: varint over 64 bits");
      v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return true;
    }
    return refuse("telemetry chunk: varint over 64 bits");
  }
  [[gnu::always_inline]] bool signed_varint(std::int64_t& v) {
    std::uint64_t u = 0;
    if (!varint(u)) return false;
    v = unzigzag(u);
    return true;
  }
  // `n` varints, each handed to `each` (zigzag-decoded when `Signed`);
  // false at the first that cannot be read. The position lives in a local
  // while it goes (a whole column: kilnd's hot loop).
  template <bool Signed, typename Each>
  [[gnu::always_inline]] bool varints(std::size_t n, Each&& each) {
    const char* at = at_;
    for (std::size_t i = 0; i < n; ++i) {
      std::uint64_t u = 0;
      if (at != end_ && (static_cast<std::uint8_t>(*at) & 0x80) == 0) {
        u = static_cast<std::uint8_t>(*at++);
      } else {
        at_ = at;
        if (!varint(u)) return false;
        at = at_;
      }
      if constexpr (Signed) {
        each(unzigzag(u));
      } else {
        each(u);
      }
    }
    at_ = at;
    return true;
  }
  Error error() const { return Error{ErrorCode::parse, reason_}; }
  Error error(std::string reason) {
    refuse(std::move(reason));
    return error();
  }

 private:
  bool refuse(std::string reason) {
    reason_ = std::move(reason);
    return false;
  }
  const char* at_;
  const char* end_;
  std::string reason_;
};

}  // namespace kiln::store::chunk::codec
