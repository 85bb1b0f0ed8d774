// The telemetry chunk codec (schema/telemetry_chunk.hpp).

#include "schema/telemetry_chunk.hpp"

#include <zstd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace kiln::store::chunk {
namespace {

constexpr char kMagic[4] = {'K', 'T', 'C', 1};
constexpr char kMappedMagic[4] = {'K', 'T', 'C', 2};
constexpr std::uint8_t kRawEncoding = 0;
constexpr std::uint8_t kQuantisedEncoding = 1;
constexpr std::uint32_t kMaxScale = 1'000'000'000;
// |q| below 2^48: q / scale times scale rounds back to q, with room to spare.
constexpr double kMaxQuantum = 281474976710656.0;  // 2^48

void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

std::uint64_t zigzag(std::int64_t v) {
  const auto u = static_cast<std::uint64_t>(v);
  return (u << 1) ^ (v < 0 ? ~std::uint64_t{0} : 0);
}
std::int64_t unzigzag(std::uint64_t u) { return static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1)); }

// Differences taken in unsigned arithmetic: wrap-around is defined, and
// decoding wraps back the same way.
std::int64_t minus(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) - static_cast<std::uint64_t>(b));
}
std::int64_t plus(std::int64_t a, std::int64_t b) {
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(a) + static_cast<std::uint64_t>(b));
}

template <typename Get>
void put_delta_of_delta(std::string& out, std::size_t n, Get get) {
  std::int64_t previous = 0, previous_delta = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t delta = minus(get(i), previous);
    put_varint(out, zigzag(minus(delta, previous_delta)));
    previous = get(i);
    previous_delta = delta;
  }
}

bool fits_grid(const Series& series) {
  if (series.scale == 0 || series.scale > kMaxScale) return false;
  for (const Point& p : series.points) {
    if (!std::isfinite(p.value) || std::fabs(p.value * series.scale) >= kMaxQuantum) return false;
  }
  return true;
}

class Cursor {
 public:
  explicit Cursor(std::string_view bytes) : bytes_(bytes) {}
  std::size_t left() const { return bytes_.size() - at_; }
  Result<std::uint64_t> varint() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (at_ >= bytes_.size()) return make_error(ErrorCode::parse, "telemetry chunk: truncated");
      const auto byte = static_cast<std::uint8_t>(bytes_[at_++]);
      if (shift == 63 && byte > 1) return make_error(ErrorCode::parse, "telemetry chunk: varint over 64 bits");
      v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) return v;
    }
    return make_error(ErrorCode::parse, "telemetry chunk: varint over 64 bits");
  }
  Result<std::int64_t> signed_varint() {
    KILN_TRY_ASSIGN(const std::uint64_t u, varint());
    return unzigzag(u);
  }

 private:
  std::string_view bytes_;
  std::size_t at_ = 0;
};

Result<std::vector<Series>> decode_raw(std::string_view raw) {
  Cursor in(raw);
  KILN_TRY_ASSIGN(const std::uint64_t count, in.varint());
  if (count > kMaxSeries)
    return make_error(ErrorCode::parse, "telemetry chunk: {} series (at most {})", count, kMaxSeries);
  std::vector<Series> out(count);
  for (Series& series : out) {
    KILN_TRY_ASSIGN(const std::uint64_t id, in.varint());
    if (id > UINT32_MAX) return make_error(ErrorCode::parse, "telemetry chunk: metric id {} too large", id);
    series.metric_id = static_cast<std::uint32_t>(id);
    KILN_TRY_ASSIGN(const std::uint64_t encoding, in.varint());
    if (encoding == kQuantisedEncoding) {
      KILN_TRY_ASSIGN(const std::uint64_t scale, in.varint());
      if (scale == 0 || scale > kMaxScale) return make_error(ErrorCode::parse, "telemetry chunk: scale {}", scale);
      series.scale = static_cast<std::uint32_t>(scale);
    } else if (encoding != kRawEncoding) {
      return make_error(ErrorCode::parse, "telemetry chunk: unknown encoding {}", encoding);
    }
    KILN_TRY_ASSIGN(const std::uint64_t n, in.varint());
    // Every point takes at least three bytes (one per column).
    if (n > in.left() / 3) return make_error(ErrorCode::parse, "telemetry chunk: {} points in {} bytes", n, in.left());
    series.points.resize(n);
    std::int64_t previous = 0, delta = 0;
    for (Point& p : series.points) {
      KILN_TRY_ASSIGN(const std::int64_t dod, in.signed_varint());
      delta = plus(delta, dod);
      previous = p.t_us = plus(previous, delta);
    }
    previous = delta = 0;
    for (Point& p : series.points) {
      KILN_TRY_ASSIGN(const std::int64_t dod, in.signed_varint());
      delta = plus(delta, dod);
      previous = p.wall_unix_ms = plus(previous, delta);
    }
    if (series.scale != 0) {
      std::int64_t q = 0;
      for (Point& p : series.points) {
        KILN_TRY_ASSIGN(const std::int64_t d, in.signed_varint());
        q = plus(q, d);
        if (std::fabs(static_cast<double>(q)) >= kMaxQuantum) {
          return make_error(ErrorCode::parse, "telemetry chunk: quantised value {} off the grid", q);
        }
        p.value = static_cast<double>(q) / series.scale;
      }
    } else {
      std::uint64_t bits = 0;
      for (Point& p : series.points) {
        KILN_TRY_ASSIGN(const std::uint64_t x, in.varint());
        bits ^= x;
        p.value = std::bit_cast<double>(bits);
      }
    }
  }
  if (in.left() != 0) return make_error(ErrorCode::parse, "telemetry chunk: {} bytes after the last series", in.left());
  return out;
}

}  // namespace

std::uint32_t scale_for_precision(double precision) {
  if (!(precision > 0) || precision > 1) return precision == 1 ? 1 : 0;
  const double inverse = std::round(1.0 / precision);
  if (inverse > kMaxScale || std::fabs(inverse * precision - 1.0) > 1e-9) return 0;
  return static_cast<std::uint32_t>(inverse);
}

double quantised(double value, std::uint32_t scale) {
  if (scale == 0 || scale > kMaxScale || !std::isfinite(value) || std::fabs(value * scale) >= kMaxQuantum) return value;
  return std::round(value * scale) / scale;
}

std::string encode_raw(const std::vector<Series>& series) {
  std::string out;
  put_varint(out, series.size());
  for (const Series& s : series) {
    const bool grid = fits_grid(s);
    const std::size_t n = s.points.size();
    put_varint(out, s.metric_id);
    put_varint(out, grid ? kQuantisedEncoding : kRawEncoding);
    if (grid) put_varint(out, s.scale);
    put_varint(out, n);
    put_delta_of_delta(out, n, [&](std::size_t i) { return s.points[i].t_us; });
    put_delta_of_delta(out, n, [&](std::size_t i) { return s.points[i].wall_unix_ms; });
    if (grid) {
      std::int64_t previous = 0;
      for (const Point& p : s.points) {
        const auto q = static_cast<std::int64_t>(std::llround(p.value * s.scale));
        put_varint(out, zigzag(minus(q, previous)));
        previous = q;
      }
    } else {
      std::uint64_t previous = 0;
      for (const Point& p : s.points) {
        const auto bits = std::bit_cast<std::uint64_t>(p.value);
        put_varint(out, bits ^ previous);
        previous = bits;
      }
    }
  }
  return out;
}

std::string encode(const std::vector<Series>& series, int zstd_level, bool checksum) {
  const std::string raw = encode_raw(series);
  std::string out(kMagic, sizeof kMagic);
  put_varint(out, raw.size());
  const std::size_t header = out.size();
  out.resize(header + ZSTD_compressBound(raw.size()));
  // One context per thread: encoding is the agents' hot path, and a context
  // made per call costs more than compressing a small chunk.
  struct Context {
    ZSTD_CCtx* cctx = ZSTD_createCCtx();
    ~Context() { ZSTD_freeCCtx(cctx); }
  };
  thread_local Context context;
  ZSTD_CCtx_reset(context.cctx, ZSTD_reset_session_and_parameters);
  ZSTD_CCtx_setParameter(context.cctx, ZSTD_c_compressionLevel, zstd_level);
  ZSTD_CCtx_setParameter(context.cctx, ZSTD_c_checksumFlag, checksum ? 1 : 0);
  const std::size_t packed =
      ZSTD_compress2(context.cctx, out.data() + header, out.size() - header, raw.data(), raw.size());
  // Only a bound too small or a bad level fail; neither can happen here.
  if (ZSTD_isError(packed)) throw std::logic_error(ZSTD_getErrorName(packed));
  out.resize(header + packed);
  return out;
}

namespace {

// The raw size and zstd frame after the magic (and map) of either version.
Result<std::vector<Series>> decode_frame(std::string_view rest) {
  Cursor header(rest);
  KILN_TRY_ASSIGN(const std::uint64_t raw_size, header.varint());
  if (raw_size > kMaxRawBytes) {
    return make_error(ErrorCode::parse, "telemetry chunk: {} raw bytes (at most {})", raw_size, kMaxRawBytes);
  }
  const std::string_view frame = rest.substr(rest.size() - header.left());
  const unsigned long long content = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (content != raw_size) return make_error(ErrorCode::parse, "telemetry chunk: frame size does not match");
  std::string raw(raw_size, '\0');
  const std::size_t got = ZSTD_decompress(raw.data(), raw.size(), frame.data(), frame.size());
  if (ZSTD_isError(got)) return make_error(ErrorCode::parse, "telemetry chunk: {}", ZSTD_getErrorName(got));
  if (got != raw_size) return make_error(ErrorCode::parse, "telemetry chunk: {} bytes, expected {}", got, raw_size);
  return decode_raw(raw);
}

bool has_magic(std::string_view bytes, const char (&magic)[4]) {
  return bytes.size() >= sizeof magic && std::memcmp(bytes.data(), magic, sizeof magic) == 0;
}

}  // namespace

Result<std::vector<Series>> decode(std::string_view bytes) {
  if (has_magic(bytes, kMagic)) return decode_frame(bytes.substr(sizeof kMagic));
  if (!has_magic(bytes, kMappedMagic)) {
    return make_error(ErrorCode::parse, "not a telemetry chunk (bad magic or version)");
  }
  Cursor in(bytes.substr(sizeof kMappedMagic));
  KILN_TRY_ASSIGN(const std::uint64_t count, in.varint());
  if (count > kMaxSeries || count > in.left()) {
    return make_error(ErrorCode::parse, "telemetry chunk: a metric map of {} ids", count);
  }
  std::vector<std::uint32_t> ids(count);
  for (std::uint32_t& id : ids) {
    KILN_TRY_ASSIGN(const std::uint64_t v, in.varint());
    if (v > UINT32_MAX) return make_error(ErrorCode::parse, "telemetry chunk: metric id {} too large", v);
    id = static_cast<std::uint32_t>(v);
  }
  KILN_TRY_ASSIGN(std::vector<Series> series, decode_frame(bytes.substr(bytes.size() - in.left())));
  for (Series& s : series) {
    if (s.metric_id >= ids.size()) {
      return make_error(ErrorCode::parse, "telemetry chunk: metric {} outside its map of {}", s.metric_id, ids.size());
    }
    s.metric_id = ids[s.metric_id];
  }
  return series;
}

Result<std::string> with_metric_map(std::string_view chunk, const std::vector<std::uint32_t>& ids) {
  if (!has_magic(chunk, kMagic)) return make_error(ErrorCode::parse, "not a version-1 telemetry chunk");
  if (ids.size() > kMaxSeries) return make_error(ErrorCode::invalid_argument, "a metric map of {} ids", ids.size());
  std::string out(kMappedMagic, sizeof kMappedMagic);
  put_varint(out, ids.size());
  for (const std::uint32_t id : ids) put_varint(out, id);
  out.append(chunk.substr(sizeof kMagic));
  return out;
}

SeriesStats stats_of(const Series& series) {
  SeriesStats out;
  if (series.points.empty()) return out;
  out.first_t_us = series.points.front().t_us;
  out.last_t_us = series.points.back().t_us;
  out.last_wall_unix_ms = series.points.back().wall_unix_ms;
  out.last = series.points.back().value;
  out.min = std::numeric_limits<double>::infinity();
  out.max = -out.min;
  for (const Point& p : series.points) {
    if (std::isnan(p.value)) continue;
    out.min = std::min(out.min, p.value);
    out.max = std::max(out.max, p.value);
    out.sum += p.value;
    ++out.count;
  }
  if (out.count == 0) out.min = out.max = 0;
  return out;
}

}  // namespace kiln::store::chunk
