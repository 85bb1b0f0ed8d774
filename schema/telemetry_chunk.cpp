// The telemetry chunk codec (schema/telemetry_chunk.hpp).

#include "schema/telemetry_chunk.hpp"

#include "telemetry_chunk_varint.hpp"  // the codec's own, not published

#include <zstd.h>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <span>
#include <stdexcept>

namespace kiln::store::chunk {
using namespace codec;
namespace {

constexpr char kMagic[4] = {'K', 'T', 'C', 1};
constexpr char kMappedMagic[4] = {'K', 'T', 'C', 2};

// A delta-of-delta column read a block at a time: its running state.
struct DeltaOfDelta {
  std::int64_t previous = 0, delta = 0;
  // The next `out.size()` values of the column.
  bool read(Cursor& in, std::span<std::int64_t> out) {
    std::int64_t* next = out.data();
    std::int64_t p = previous, d = delta;  // in registers while it goes
    const bool read = in.varints<true>(out.size(), [&](std::int64_t dod) {
      d = plus(d, dod);
      p = plus(p, d);
      *next++ = p;
    });
    previous = p;
    delta = d;
    return read;
  }
};

// Points decoded per block: each loop stays tight, and what a walk holds
// stays small whatever count a chunk claims (summarise() must not need
// memory in proportion to the points).
constexpr std::size_t kBlockPoints = 4096;

// Walks the raw layout once, checking it, and hands each series' columns to
// `sink` a block at a time: begin(id, scale, n), then times(from, t_us) for
// each block of the time column, walls(from, ms) of the wall column and
// values(from, v) of the values, each block the points from index `from`
// on, then end(). decode() keeps the points; summarise() only their
// figures (this runs for every value kilnd stores).
template <typename Sink>
Status walk_raw(std::string_view raw, Sink& sink) {
  Cursor in(raw);
  std::uint64_t count = 0;
  if (!in.varint(count)) return in.error();
  if (count > kMaxSeries)
    return make_error(ErrorCode::parse, "telemetry chunk: {} series (at most {})", count, kMaxSeries);
  sink.reserve(static_cast<std::size_t>(count));
  std::vector<std::int64_t> column(kBlockPoints);
  std::vector<double> values(kBlockPoints);
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
    const auto block_at = [&](std::size_t from) { return std::min(kBlockPoints, points - from); };
    DeltaOfDelta times;
    for (std::size_t from = 0; from < points; from += kBlockPoints) {
      const std::span<std::int64_t> block(column.data(), block_at(from));
      if (!times.read(in, block)) return in.error();
      sink.times(from, block);
    }
    DeltaOfDelta walls;
    for (std::size_t from = 0; from < points; from += kBlockPoints) {
      const std::span<std::int64_t> block(column.data(), block_at(from));
      if (!walls.read(in, block)) return in.error();
      sink.walls(from, block);
    }
    std::int64_t q = 0;
    std::uint64_t bits = 0;
    const double divisor = static_cast<double>(scale);
    for (std::size_t from = 0; from < points; from += kBlockPoints) {
      const std::span<double> block(values.data(), block_at(from));
      double* next = block.data();
      if (scale != 0) {
        bool off_grid = false;
        const bool read = in.varints<true>(block.size(), [&](std::int64_t d) {
          q = plus(q, d);
          off_grid = off_grid || std::fabs(static_cast<double>(q)) >= kMaxQuantum;
          *next++ = static_cast<double>(q) / divisor;
        });
        if (!read) return in.error();
        if (off_grid) return make_error(ErrorCode::parse, "telemetry chunk: a quantised value off the grid");
      } else {
        const bool read = in.varints<false>(block.size(), [&](std::uint64_t x) {
          bits ^= x;
          *next++ = std::bit_cast<double>(bits);
        });
        if (!read) return in.error();
      }
      sink.values(from, block);
    }
    sink.end();
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
  }
  void times(std::size_t from, std::span<const std::int64_t> t_us) {
    for (std::size_t i = 0; i < t_us.size(); ++i) out.back().points[from + i].t_us = t_us[i];
  }
  void walls(std::size_t from, std::span<const std::int64_t> ms) {
    for (std::size_t i = 0; i < ms.size(); ++i) out.back().points[from + i].wall_unix_ms = ms[i];
  }
  void values(std::size_t from, std::span<const double> v) {
    for (std::size_t i = 0; i < v.size(); ++i) out.back().points[from + i].value = v[i];
  }
  void end() {}
};

// summarise(): each series' summary, as summary_of() computes it (the same
// sums, in the same order), carried from block to block.
struct SummarySink {
  std::vector<SeriesSummary> out;
  void reserve(std::size_t n) { out.reserve(n); }
  void begin(std::uint32_t id, std::uint32_t scale, std::size_t n) {
    out.push_back(SeriesSummary{id, scale, n, {}, 0, 0});
    out.back().stats.min = std::numeric_limits<double>::infinity();
    out.back().stats.max = -out.back().stats.min;
  }
  void times(std::size_t from, std::span<const std::int64_t> t_us) {
    SeriesSummary& s = out.back();
    if (from == 0) s.stats.first_t_us = s.min_t_us = s.max_t_us = t_us.front();
    std::int64_t lowest = s.min_t_us, highest = s.max_t_us;
    for (const std::int64_t t : t_us) {
      lowest = std::min(lowest, t);
      highest = std::max(highest, t);
    }
    s.min_t_us = lowest;
    s.max_t_us = highest;
    s.stats.last_t_us = t_us.back();
  }
  void walls(std::size_t, std::span<const std::int64_t> ms) { out.back().stats.last_wall_unix_ms = ms.back(); }
  void values(std::size_t, std::span<const double> v) {
    SeriesStats& st = out.back().stats;
    st.last = v.back();
    double lowest = st.min, highest = st.max, sum = st.sum;
    std::uint64_t count = st.count;
    for (const double x : v) {
      if (std::isnan(x)) continue;
      lowest = std::min(lowest, x);
      highest = std::max(highest, x);
      sum += x;
      ++count;
    }
    st.min = lowest;
    st.max = highest;
    st.sum = sum;
    st.count = count;
  }
  // A series of no values (or only NaN) reads 0, as stats_of().
  void end() {
    SeriesStats& st = out.back().stats;
    if (st.count == 0) st.min = st.max = 0;
  }
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

std::string encode(const std::vector<const SeriesColumns*>& series, const TickTimes* ticks, int zstd_level,
                   bool checksum) {
  std::string& raw = raw_buffer();
  append_varint(raw, series.size());
  for (std::size_t i = 0; i < series.size(); ++i) series[i]->append_to(raw, static_cast<std::uint32_t>(i), ticks);
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
