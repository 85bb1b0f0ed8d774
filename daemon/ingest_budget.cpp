#include "daemon/ingest_budget.hpp"

#include <algorithm>
#include <utility>

#include <spdlog/spdlog.h>

#include "daemon/session.hpp"

namespace kiln::daemon {

std::size_t IngestBudget::resident_bytes(const kiln::v1::AgentBatch& batch) {
  constexpr std::size_t kPerSample = 256;  // the message, its serial, its repeated field
  constexpr std::size_t kPerValue = 96;    // a MetricValue: the message, its name, a pointer to it
  std::size_t values = 0;
  for (const kiln::v1::Sample& sample : batch.samples()) values += static_cast<std::size_t>(sample.values_size());
  return batch.ByteSizeLong() + kPerSample * static_cast<std::size_t>(batch.samples_size()) + kPerValue * values;
}

void IngestBudget::take(const std::shared_ptr<Session>& session, std::size_t bytes) {
  bytes_ += bytes;
  peak_ = std::max(peak_, bytes_);
  if (bytes_ <= max_bytes_ || !session) return;
  if (paused_.empty()) {
    spdlog::warn("ingest: {} MiB of batches wait for the writer (cap {} MiB): agents are read again when it catches up",
                 bytes_ >> 20, max_bytes_ >> 20);
  }
  session->pause_reading();
  paused_.push_back(session);
  ++pauses_;
}

void IngestBudget::give_back(std::size_t bytes) {
  bytes_ -= std::min(bytes, bytes_);
  if (paused_.empty() || bytes_ > max_bytes_ / 2) return;
  for (const auto& weak : std::exchange(paused_, {})) {
    if (auto session = weak.lock()) session->resume_reading();
  }
}

}  // namespace kiln::daemon
