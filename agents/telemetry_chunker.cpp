#include "agents/telemetry_chunker.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>
#include <utility>

#include "metrics/catalog.hpp"

namespace kiln::agent {

namespace chunk = store::chunk;

TelemetryChunker::TelemetryChunker(std::string serial, std::uint64_t run_id, std::uint32_t step_index)
    : serial_(std::move(serial)), run_id_(run_id), step_index_(step_index) {}

std::uint32_t TelemetryChunker::metric(std::string_view name) {
  const auto found = std::find(names_.begin(), names_.end(), name);
  if (found != names_.end()) return static_cast<std::uint32_t>(found - names_.begin());
  const metrics::MetricRef ref = metrics::MetricCatalog::builtin().resolve(name);
  const std::uint32_t slot = static_cast<std::uint32_t>(names_.size());
  names_.emplace_back(name);
  series_.emplace_back(ref.def == nullptr ? 0 : chunk::scale_for_precision(ref.def->precision));
  return slot;
}

void TelemetryChunker::add(const kiln::v1::Sample& sample) {
  for (const kiln::v1::MetricValue& v : sample.values())
    add(metric(v.name()), sample.t_s(), sample.wall_unix_ms(), v.value());
}

kiln::v1::TelemetryChunk TelemetryChunker::take(int zstd_level) {
  kiln::v1::TelemetryChunk out;
  out.set_serial(serial_);
  out.set_run_id(run_id_);
  out.set_step_index(step_index_);
  if (values_ == 0) return out;
  // Only the series with values, renumbered 0..n-1 as the names sent.
  std::vector<const chunk::SeriesColumns*> present;
  for (std::size_t slot = 0; slot < series_.size(); ++slot) {
    if (series_[slot].size() == 0) continue;
    present.push_back(&series_[slot]);
    out.add_metrics(names_[slot]);
  }
  out.set_values(static_cast<std::uint32_t>(values_));
  out.set_data(chunk::encode(present, &ticks_, zstd_level, /*checksum=*/true));
  for (chunk::SeriesColumns& s : series_) s.clear();
  ticks_.clear();
  values_ = 0;
  return out;
}

kiln::v1::AgentBatch with_samples_chunked(const kiln::v1::AgentBatch& batch) {
  kiln::v1::AgentBatch out;
  out.set_rack(batch.rack());
  out.set_epoch(batch.epoch());
  out.set_seq(batch.seq());
  *out.mutable_results() = batch.results();
  *out.mutable_chunks() = batch.chunks();
  std::vector<TelemetryChunker> chunkers;
  std::map<std::tuple<std::uint64_t, std::string, std::uint32_t>, std::size_t> index;
  for (const kiln::v1::Sample& sample : batch.samples()) {
    if (sample.values().empty()) {
      *out.add_samples() = sample;  // nothing to encode, but it says the chip is sampling
      continue;
    }
    const auto [at, fresh] =
        index.try_emplace({sample.run_id(), sample.serial(), sample.step_index()}, chunkers.size());
    if (fresh) chunkers.emplace_back(sample.serial(), sample.run_id(), sample.step_index());
    TelemetryChunker& chunker = chunkers[at->second];
    chunker.add(sample);
    if (chunker.full()) *out.add_chunks() = chunker.take();
  }
  for (TelemetryChunker& chunker : chunkers) {
    if (chunker.values() > 0) *out.add_chunks() = chunker.take();
  }
  return out;
}

}  // namespace kiln::agent
