// The telemetry chunk codec (schema/telemetry_chunk.hpp).

#include "schema/telemetry_chunk.hpp"

#include "telemetry_chunk_varint.hpp"  // the codec's own, not published

#include <zstd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>

namespace kiln::store::chunk {
using namespace codec;
namespace {

constexpr char kMagic[4] = {'K', 'T', 'C', 1};
constexpr char kMappedMagic[4] = {'K', 'T', 'C', 2};

// Walks the raw layout once, checking it, and hands each series' columns to
// `sink`: begin(id, scale, n) then time(i, t_us), wall(i, ms) and value(i, v)
// for i in 0..n-1, column by column. decode() keeps the points; summarise()
// only their figures.
template <typename Sink>
Status walk_raw(std::string_view raw, Sink& sink) {
  Cursor in(raw);
  std::uint64_t count = 0;
  if (!in.varint(count)) return in.error();
  if (count > kMaxSeries)
    return make_error(ErrorCode::parse, "telemetry chunk: {} series (at most {})", count, kMaxSeries);
  sink.reserve(static_cast<std::size_t>(count));
  for (std::uint64_t k = 0; k < count; ++k) {
    std::uint64_t id = 0, encoding = 0, scale = 0, n = 0;
    if (!in.varint(id)) return in.error();
    if (id > UINT32_MAX) return make_error(ErrorCode::parse, "telemetry chunk: metric id {} too large", id);
    if (!in.varint(encoding)) return in.error();
    if (encoding == kQuantisedEncoding) {
      if (!in.varint(scale)) return in.error();
      if (scale == 0 || scale > kMaxScale) return make_error(ErrorCode::parse, "telemetry chunk: scale {}", scale);
    } else if (encoding != kRawEncoding) {
      return make_error(ErrorCode::parse, "telemetry chunk: unknown encoding {}", encoding);
    }
    if (!in.varint(n)) return in.error();
    // Every point takes at least three bytes (one per column).
    if (n > in.left() / 3) return make_error(ErrorCode::parse, "telemetry chunk: {} points in {} bytes", n, in.left());
    const auto points = static_cast<std::size_t>(n);
    sink.begin(static_cast<std::uint32_t>(id), static_cast<std::uint32_t>(scale), points);
    std::int64_t previous = 0, delta = 0, dod = 0;
    for (std::size_t i = 0; i < points; ++i) {
      if (!in.signed_varint(dod)) return in.error();
      delta = plus(delta, dod);
      previous = plus(previous, delta);
      sink.time(i, previous);
    }
    previous = delta = 0;
    for (std::size_t i = 0; i < points; ++i) {
      if (!in.signed_varint(dod)) return in.error();
      delta = plus(delta, dod);
      previous = plus(previous, delta);
      sink.wall(i, previous);
    }
    if (scale != 0) {
      std::int64_t q = 0, d = 0;
      const double divisor = static_cast<double>(scale);
      for (std::size_t i = 0; i < points; ++i) {
        if (!in.signed_varint(d)) return in.error();
        q = plus(q, d);
        if (std::fabs(static_cast<double>(q)) >= kMaxQuantum) {
          return make_error(ErrorCode::parse, "telemetry chunk: quantised value {} off the grid", q);
        }
        sink.value(i, static_cast<double>(q) / divisor);
      }
    } else {
      std::uint64_t bits = 0, x = 0;
      for (std::size_t i = 0; i < points; ++i) {
        if (!in.varint(x)) return in.error();
        bits ^= x;
        sink.value(i, std::bit_cast<double>(bits));
      }
    }
  }
  if (in.left() != 0) return make_error(ErrorCode::parse, "telemetry chunk: {} bytes after the last series", in.left());
  return {};
}

// decode(): every point.
struct PointsSink {
  std::vector<Series> out;
  void reserve(std::size_t n) { out.reserve(n); }
  void begin(std::uint32_t id, std::uint32_t scale, std::size_t n) {
    out.push_back(Series{id, scale, std::vector<Point>(n)});
    points = out.back().points.data();
  }
  void time(std::size_t i, std::int64_t t_us) { points[i].t_us = t_us; }
  void wall(std::size_t i, std::int64_t ms) { points[i].wall_unix_ms = ms; }
  void value(std::size_t i, double v) { points[i].value = v; }
  Point* points = nullptr;
};

// summarise(): each series' summary, as summary_of() computes it.
struct SummarySink {
  std::vector<SeriesSummary> out;
  void reserve(std::size_t n) { out.reserve(n); }
  void begin(std::uint32_t id, std::uint32_t scale, std::size_t n) {
    out.push_back(SeriesSummary{id, scale, n, {}, 0, 0});
    current = &out.back();
    last_index = n == 0 ? 0 : n - 1;
    current->stats.min = std::numeric_limits<double>::infinity();
    current->stats.max = -current->stats.min;
  }
  void time(std::size_t i, std::int64_t t_us) {
    SeriesSummary& s = *current;
    if (i == 0) s.stats.first_t_us = s.min_t_us = s.max_t_us = t_us;
    s.min_t_us = std::min(s.min_t_us, t_us);
    s.max_t_us = std::max(s.max_t_us, t_us);
    if (i == last_index) s.stats.last_t_us = t_us;
  }
  void wall(std::size_t i, std::int64_t ms) {
    if (i == last_index) current->stats.last_wall_unix_ms = ms;
  }
  void value(std::size_t i, double v) {
    SeriesStats& st = current->stats;
    if (i == last_index) st.last = v;
    if (std::isnan(v)) return;
    st.min = std::min(st.min, v);
    st.max = std::max(st.max, v);
    st.sum += v;
    ++st.count;
  }
  // After the walk: a series of no values (or only NaN) reads 0, as stats_of().
  void settle() {
    for (SeriesSummary& s : out) {
      if (s.stats.count == 0) s.stats.min = s.stats.max = 0;
    }
  }
  SeriesSummary* current = nullptr;
  std::size_t last_index = 0;
};

// The raw bytes of a series list, appended to `out`.
void append_raw(std::string& out, const std::vector<Series>& series) {
  std::size_t most = 1;
  for (const Series& s : series) most += 5 + 3 * s.points.size();
  VarintWriter writer(out, most);
  writer.put(series.size());
  for (const Series& s : series) {
    const bool grid = fits_grid(s);
    const std::size_t n = s.points.size();
    writer.put(s.metric_id);
    writer.put(grid ? kQuantisedEncoding : kRawEncoding);
    if (grid) writer.put(s.scale);
    writer.put(n);
    put_delta_of_delta(writer, n, [&](std::size_t i) { return s.points[i].t_us; });
    put_delta_of_delta(writer, n, [&](std::size_t i) { return s.points[i].wall_unix_ms; });
    if (grid) {
      std::int64_t previous = 0;
      const double scale = static_cast<double>(s.scale);
      for (const Point& p : s.points) {
        const auto q = static_cast<std::int64_t>(std::llround(p.value * scale));
        writer.put(zigzag(minus(q, previous)));
        previous = q;
      }
    } else {
      std::uint64_t previous = 0;
      for (const Point& p : s.points) {
        const auto bits = std::bit_cast<std::uint64_t>(p.value);
        writer.put(bits ^ previous);
        previous = bits;
      }
    }
  }
  writer.finish();
}

void append_varint(std::string& out, std::uint64_t v) {
  VarintWriter writer(out, 1);
  writer.put(v);
  writer.finish();
}

}  // namespace

std::uint32_t scale_for_precision(double precision) {
  if (!(precision > 0) || precision > 1) return precision == 1 ? 1 : 0;
  const double inverse = std::round(1.0 / precision);
  if (inverse > kMaxScale || std::fabs(inverse * precision - 1.0) > 1e-9) return 0;
  return static_cast<std::uint32_t>(inverse);
}

std::string encode_raw(const std::vector<Series>& series) {
  std::string out;
  append_raw(out, series);
  return out;
}

namespace {
// An agent's chunk (16384 values) takes well under this: a larger one's
// buffer is given back rather than kept for the thread's life.
constexpr std::size_t kKeptEncodeBytes = 1u << 20;

// A raw buffer per thread: encoding is the agents' hot path, and allocating
// one per call costs more than a small chunk.
std::string& raw_buffer() {
  thread_local std::string raw;
  raw.clear();
  return raw;
}

// The raw bytes framed and compressed; gives a large raw buffer back.
std::string compress(std::string& raw, int zstd_level, bool checksum) {
  // One zstd context per thread, for the same reason as the raw buffer.
  struct Context {
    ZSTD_CCtx* cctx = ZSTD_createCCtx();
    ~Context() { ZSTD_freeCCtx(cctx); }
  };
  thread_local Context context;
  std::string out(kMagic, sizeof kMagic);
  append_varint(out, raw.size());
  const std::size_t header = out.size();
  out.resize(header + ZSTD_compressBound(raw.size()));
  ZSTD_CCtx_reset(context.cctx, ZSTD_reset_session_and_parameters);
  ZSTD_CCtx_setParameter(context.cctx, ZSTD_c_compressionLevel, zstd_level);
  ZSTD_CCtx_setParameter(context.cctx, ZSTD_c_checksumFlag, checksum ? 1 : 0);
  const std::size_t packed =
      ZSTD_compress2(context.cctx, out.data() + header, out.size() - header, raw.data(), raw.size());
  // Only a bound too small or a bad level fail; neither can happen here.
  if (ZSTD_isError(packed)) throw std::logic_error(ZSTD_getErrorName(packed));
  out.resize(header + packed);
  if (raw.capacity() > kKeptEncodeBytes) std::string().swap(raw);
  return out;
}

}  // namespace

std::string encode(const std::vector<Series>& series, int zstd_level, bool checksum) {
  std::string& raw = raw_buffer();
  append_raw(raw, series);
  return compress(raw, zstd_level, checksum);
}

std::string encode(const std::vector<const SeriesColumns*>& series, int zstd_level, bool checksum) {
  std::string& raw = raw_buffer();
  append_varint(raw, series.size());
  for (std::size_t i = 0; i < series.size(); ++i) series[i]->append_to(raw, static_cast<std::uint32_t>(i));
  return compress(raw, zstd_level, checksum);
}

namespace {

bool has_magic(std::string_view bytes, const char (&magic)[4]) {
  return bytes.size() >= sizeof magic && std::memcmp(bytes.data(), magic, sizeof magic) == 0;
}

// A chunk of either version, opened: its metric map (version 2; empty for
// version 1) and its raw bytes, in a per-thread buffer valid until the
// next open() on the same thread.
struct Opened {
  std::vector<std::uint32_t> ids;
  bool mapped = false;
  std::string_view raw;
};

// kilnd decodes every chunk an agent sends: one zstd context and one raw
// buffer a thread, the buffer given back after a chunk larger than agents
// send (a hostile size must not stay resident).
struct DecodeContext {
  ZSTD_DCtx* dctx = ZSTD_createDCtx();
  std::string raw;
  ~DecodeContext() { ZSTD_freeDCtx(dctx); }
  DecodeContext() = default;
  DecodeContext(const DecodeContext&) = delete;
  DecodeContext& operator=(const DecodeContext&) = delete;
};
constexpr std::size_t kKeptRawBytes = 1u << 20;

DecodeContext& decode_context() {
  thread_local DecodeContext context;
  return context;
}

// Run after the raw bytes of the last open_chunk() are no longer needed.
void release_large_buffer() {
  std::string& raw = decode_context().raw;
  if (raw.capacity() > kKeptRawBytes) std::string().swap(raw);
}

// The raw size and zstd frame after the magic (and map) of either version.
Result<std::string_view> decompress(std::string_view rest) {
  Cursor header(rest);
  std::uint64_t raw_size = 0;
  if (!header.varint(raw_size)) return header.error();
  if (raw_size > kMaxRawBytes) {
    return make_error(ErrorCode::parse, "telemetry chunk: {} raw bytes (at most {})", raw_size, kMaxRawBytes);
  }
  const std::string_view frame = rest.substr(rest.size() - header.left());
  const unsigned long long content = ZSTD_getFrameContentSize(frame.data(), frame.size());
  if (content != raw_size) return make_error(ErrorCode::parse, "telemetry chunk: frame size does not match");
  DecodeContext& context = decode_context();
  context.raw.resize(raw_size);
  const std::size_t got =
      ZSTD_decompressDCtx(context.dctx, context.raw.data(), context.raw.size(), frame.data(), frame.size());
  if (ZSTD_isError(got)) return make_error(ErrorCode::parse, "telemetry chunk: {}", ZSTD_getErrorName(got));
  if (got != raw_size) return make_error(ErrorCode::parse, "telemetry chunk: {} bytes, expected {}", got, raw_size);
  return std::string_view(context.raw);
}

Result<Opened> open_chunk(std::string_view bytes) {
  Opened out;
  if (has_magic(bytes, kMagic)) {
    KILN_TRY_ASSIGN(out.raw, decompress(bytes.substr(sizeof kMagic)));
    return out;
  }
  if (!has_magic(bytes, kMappedMagic)) {
    return make_error(ErrorCode::parse, "not a telemetry chunk (bad magic or version)");
  }
  Cursor in(bytes.substr(sizeof kMappedMagic));
  std::uint64_t count = 0;
  if (!in.varint(count)) return in.error();
  if (count > kMaxSeries || count > in.left()) {
    return make_error(ErrorCode::parse, "telemetry chunk: a metric map of {} ids", count);
  }
  out.mapped = true;
  out.ids.resize(static_cast<std::size_t>(count));
  for (std::uint32_t& id : out.ids) {
    std::uint64_t v = 0;
    if (!in.varint(v)) return in.error();
    if (v > UINT32_MAX) return make_error(ErrorCode::parse, "telemetry chunk: metric id {} too large", v);
    id = static_cast<std::uint32_t>(v);
  }
  KILN_TRY_ASSIGN(out.raw, decompress(bytes.substr(bytes.size() - in.left())));
  return out;
}

// Version 2: the series' ids through the chunk's map.
template <typename Each>
Status map_ids(const Opened& opened, Each& each) {
  if (!opened.mapped) return {};
  for (auto& s : each) {
    if (s.metric_id >= opened.ids.size()) {
      return make_error(ErrorCode::parse, "telemetry chunk: metric {} outside its map of {}", s.metric_id,
                        opened.ids.size());
    }
    s.metric_id = opened.ids[s.metric_id];
  }
  return {};
}

template <typename Sink>
Status walk_chunk(std::string_view bytes, Sink& sink) {
  Result<Opened> opened = open_chunk(bytes);
  // A frame that claimed a large size and failed to decompress grew the buffer too.
  const Status walked = opened ? walk_raw(opened->raw, sink) : Status(opened.error());
  release_large_buffer();
  KILN_TRY(walked);
  return map_ids(*opened, sink.out);
}

}  // namespace

Result<std::vector<Series>> decode(std::string_view bytes) {
  PointsSink sink;
  KILN_TRY(walk_chunk(bytes, sink));
  return std::move(sink.out);
}

Result<std::vector<SeriesSummary>> summarise(std::string_view bytes) {
  SummarySink sink;
  KILN_TRY(walk_chunk(bytes, sink));
  sink.settle();
  return std::move(sink.out);
}

Result<std::string> with_metric_map(std::string_view chunk, const std::vector<std::uint32_t>& ids) {
  if (!has_magic(chunk, kMagic)) return make_error(ErrorCode::parse, "not a version-1 telemetry chunk");
  if (ids.size() > kMaxSeries) return make_error(ErrorCode::invalid_argument, "a metric map of {} ids", ids.size());
  std::string out(kMappedMagic, sizeof kMappedMagic);
  append_varint(out, ids.size());
  for (const std::uint32_t id : ids) append_varint(out, id);
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

SeriesSummary summary_of(const Series& series) {
  SeriesSummary out{series.metric_id, series.scale, series.points.size(), stats_of(series), 0, 0};
  if (series.points.empty()) return out;
  out.min_t_us = out.max_t_us = series.points.front().t_us;
  for (const Point& p : series.points) {
    out.min_t_us = std::min(out.min_t_us, p.t_us);
    out.max_t_us = std::max(out.max_t_us, p.t_us);
  }
  return out;
}

}  // namespace kiln::store::chunk
