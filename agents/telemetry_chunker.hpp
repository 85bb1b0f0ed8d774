#pragma once
// Encodes one chip-step's telemetry into TelemetryChunk messages on the
// agent (docs/telemetry-storage.md, "Agent-side encoding"): values are kept
// at their metric's stored precision (the catalog's), columns as the store's
// chunk codec lays them out, built as the values come (a few bytes a value,
// store::chunk::SeriesColumns), compressed with a fast zstd level so the agent,
// not kilnd, pays for compression. The daemon decodes a chunk once to check
// it and judge from it, and stores the bytes as they came.
//
// Not thread-safe: one chunker per chip-step, on the thread that samples it.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "schema/kiln.pb.h"
#include "schema/telemetry_chunk.hpp"

namespace kiln::agent {

class TelemetryChunker {
 public:
  // zstd level of agent chunks: level 3 costs ≈ 10 % more bytes than the
  // store's own level 9 and a fraction of its time (measured in the doc).
  static constexpr int kZstdLevel = 3;
  // A chunk is full at this many values (the store merges a chip-step's
  // chunks smaller than store::TelemetrySealer::kSmallChunkValues).
  static constexpr std::size_t kChunkValues = 16384;

  TelemetryChunker(std::string serial, std::uint64_t run_id, std::uint32_t step_index);

  // The slot of a metric in this chunker (added on first use).
  std::uint32_t metric(std::string_view name);
  // A step's time as a chunk stores it (whole microseconds).
  static std::int64_t time_us(double t_s) { return std::llround(t_s * 1e6); }
  // One value of metric slot `slot` (from metric()).
  void add(std::uint32_t slot, double t_s, std::int64_t wall_unix_ms, double value) {
    add_at(slot, tick(time_us(t_s), wall_unix_ms), value);
  }
  // The tick at these times (a tick's values share it): the latest when it
  // is the same, else a new one.
  std::uint32_t tick(std::int64_t t_us, std::int64_t wall_unix_ms) { return ticks_.at(t_us, wall_unix_ms); }
  // One value at a tick from tick().
  void add_at(std::uint32_t slot, std::uint32_t tick, double value) {
    series_[slot].add(ticks_, tick, value);
    ++values_;
  }
  // Every value of a sample.
  void add(const kiln::v1::Sample& sample);

  std::size_t values() const { return values_; }
  bool full() const { return values_ >= kChunkValues; }
  // The values so far as one chunk, and starts afresh (metric slots stay).
  // Nothing added: a chunk with no values (do not send it).
  kiln::v1::TelemetryChunk take(int zstd_level = kZstdLevel);

 private:
  std::string serial_;
  std::uint64_t run_id_;
  std::uint32_t step_index_;
  std::vector<std::string> names_;
  std::vector<store::chunk::SeriesColumns> series_;  // by slot, encoded as the values come
  store::chunk::TickTimes ticks_;                    // the chunk's, which its series share
  std::size_t values_ = 0;
};

// The batch with its samples encoded as one chunk per (run, chip, step),
// in the order the chip-steps first appear (results and chunks unchanged,
// the same rack, epoch and seq; a sample without values stays a Sample).
kiln::v1::AgentBatch with_samples_chunked(const kiln::v1::AgentBatch& batch);

}  // namespace kiln::agent
