#include "agents/outbox.hpp"

#include <algorithm>
#include <limits>
#include <utility>

#include <spdlog/spdlog.h>

namespace kiln::agent {

Outbox::Outbox(std::string rack, std::uint64_t epoch, OutboxLimits limits, Spool* spool)
    : rack_(std::move(rack)), epoch_(epoch), limits_(limits), spool_(spool) {
  if (spool_ == nullptr) return;
  for (auto& batch : spool_->take_recovered()) {
    Held held;
    held.epoch = batch.epoch();
    held.seq = batch.seq();
    held.bytes = batch.ByteSizeLong();
    held.items = static_cast<std::size_t>(batch.samples_size() + batch.results_size() + batch.chunks_size());
    held.spooled = true;
    if (held.epoch == epoch_) next_seq_ = std::max(next_seq_, held.seq + 1);
    held.batch = std::make_shared<const kiln::v1::AgentBatch>(std::move(batch));
    bytes_ += held.bytes;
    memory_ += held.bytes;
    sealed_.push_back(std::move(held));
  }
  if (!sealed_.empty()) {
    spdlog::info("outbox: {} unacknowledged batch(es) ({} KiB) read back from spool {}; they are sent first",
                 sealed_.size(), bytes_ >> 10, spool_->dir().string());
  }
  trim_memory_locked();
}

void Outbox::push_sample(kiln::v1::Sample sample) {
  const std::size_t bytes = sample.ByteSizeLong();
  push(Item(std::move(sample)), bytes);
}

void Outbox::push_result(kiln::v1::ChipStepResult result) {
  const std::size_t bytes = result.ByteSizeLong();
  push(Item(std::move(result)), bytes);
}

void Outbox::push_chunk(kiln::v1::TelemetryChunk chunk) {
  const std::size_t bytes = chunk.ByteSizeLong();
  push(Item(std::move(chunk)), bytes);
}

namespace {
Status spool_item(Spool& spool, std::uint64_t epoch, std::uint64_t seq, const auto& item) {
  if (const auto* sample = std::get_if<kiln::v1::Sample>(&item)) return spool.append_sample(epoch, seq, *sample);
  if (const auto* chunk = std::get_if<kiln::v1::TelemetryChunk>(&item)) return spool.append_chunk(epoch, seq, *chunk);
  return spool.append_result(epoch, seq, std::get<kiln::v1::ChipStepResult>(item));
}
}  // namespace

void Outbox::push(Item item, std::size_t bytes) {
  std::lock_guard lock(mutex_);
  if (spool_ != nullptr) {
    // On disk before anything else knows of it: a kill -9 from here on loses nothing.
    const Status written = spool_item(*spool_, epoch_, next_seq_, item);
    if (!written) {
      pending_spooled_ = false;  // this batch stays in memory until acknowledged
      if (!spool_error_logged_) {
        spool_error_logged_ = true;
        spdlog::error("outbox: spool write failed ({}); batches are kept in memory until the spool works again",
                      written.error().message);
      }
    } else if (spool_error_logged_) {
      spool_error_logged_ = false;
      spdlog::info("outbox: spool writes work again");
    }
  }
  pending_.push_back(Pending{std::move(item), bytes});
  pending_bytes_ += bytes;
  bytes_ += bytes;
  memory_ += bytes;
  if (pending_.size() >= kDefaultBatchItems || pending_bytes_ >= kDefaultBatchBytes) {
    seal_locked(kDefaultBatchItems, kDefaultBatchBytes);
  }
  report_full_locked(full_locked());
}

void Outbox::seal_locked(std::size_t max_items, std::size_t max_bytes) {
  if (pending_.empty()) return;
  if (spool_ != nullptr) {
    // The spool file holds every pending item: the batch must too.
    max_items = std::numeric_limits<std::size_t>::max();
    max_bytes = std::numeric_limits<std::size_t>::max();
    spool_->seal();
  }
  auto batch = std::make_shared<kiln::v1::AgentBatch>();
  batch->set_rack(rack_);
  batch->set_epoch(epoch_);
  batch->set_seq(next_seq_++);
  std::size_t items = 0;
  std::size_t bytes = 0;
  while (!pending_.empty() && items < std::max<std::size_t>(max_items, 1)) {
    Pending& front = pending_.front();
    if (items > 0 && bytes + front.bytes > max_bytes) break;
    if (auto* sample = std::get_if<kiln::v1::Sample>(&front.item)) {
      *batch->add_samples() = std::move(*sample);
    } else if (auto* chunk = std::get_if<kiln::v1::TelemetryChunk>(&front.item)) {
      *batch->add_chunks() = std::move(*chunk);
    } else {
      *batch->add_results() = std::move(std::get<kiln::v1::ChipStepResult>(front.item));
    }
    bytes += front.bytes;
    ++items;
    pending_.pop_front();
  }
  pending_bytes_ -= bytes;
  Held held{epoch_, batch->seq(), std::move(batch), bytes, items, spool_ != nullptr && pending_spooled_};
  pending_spooled_ = true;
  sealed_.push_back(std::move(held));
  trim_memory_locked();
}

// Over the memory cap, the newest spooled batches (sent last) live only on disk.
void Outbox::trim_memory_locked() {
  for (auto it = sealed_.rbegin(); it != sealed_.rend() && memory_ > limits_.memory_bytes; ++it) {
    if (it->spooled && it->batch) {
      it->batch.reset();
      memory_ -= it->bytes;
    }
  }
}

BatchPtr Outbox::take_batch(std::size_t max_items, std::size_t max_bytes) {
  std::lock_guard lock(mutex_);
  if (unacked_.size() >= limits_.max_in_flight) return nullptr;
  if (sealed_.empty()) seal_locked(max_items, max_bytes);
  while (!sealed_.empty()) {
    Held held = std::move(sealed_.front());
    sealed_.pop_front();
    if (!held.batch) {
      auto loaded = spool_->load(held.epoch, held.seq);
      if (!loaded) {
        // The file was there when written: only something outside the agent breaks it.
        spdlog::error("outbox: batch {}/{} ({} items) cannot be read back from the spool and is lost: {}", held.epoch,
                      held.seq, held.items, loaded.error().message);
        bytes_ -= held.bytes;
        spool_->remove(held.epoch, held.seq);
        continue;
      }
      held.batch = std::make_shared<const kiln::v1::AgentBatch>(std::move(loaded).value());
      memory_ += held.bytes;
    }
    BatchPtr out = held.batch;
    unacked_.push_back(std::move(held));
    return out;
  }
  return nullptr;
}

bool Outbox::ack(std::uint64_t epoch, std::uint64_t seq) {
  std::lock_guard lock(mutex_);
  const auto it = std::find_if(unacked_.begin(), unacked_.end(),
                               [&](const Held& held) { return held.epoch == epoch && held.seq == seq; });
  if (it == unacked_.end()) return false;
  bytes_ -= it->bytes;
  memory_ -= it->bytes;
  if (spool_ != nullptr) spool_->remove(epoch, seq);
  unacked_.erase(it);
  const bool still_full = full_locked();
  report_full_locked(still_full);
  if (!still_full) room_.notify_all();
  return true;
}

std::vector<BatchPtr> Outbox::unacked() const {
  std::lock_guard lock(mutex_);
  std::vector<BatchPtr> out;
  out.reserve(unacked_.size());
  for (const Held& held : unacked_) out.push_back(held.batch);
  return out;
}

bool Outbox::full_locked() const {
  if (spool_ != nullptr) return spool_->full();
  return memory_ >= limits_.memory_bytes;
}

bool Outbox::full() const {
  std::lock_guard lock(mutex_);
  return full_locked();
}

// Said once per time it fills, and when it has room again.
void Outbox::report_full_locked(bool full) {
  if (full == reported_full_) return;
  reported_full_ = full;
  const auto now = std::chrono::steady_clock::now();
  if (full) {
    full_since_ = now;
    if (spool_ != nullptr) {
      spdlog::warn(
          "outbox: spool {} is full ({} MiB of {} MiB, {} batch(es) unacknowledged): sampling is paused "
          "until the daemon acknowledges; nothing is dropped",
          spool_->dir().string(), spool_->bytes() >> 20, spool_->max_bytes() >> 20, unacked_.size());
    } else {
      spdlog::warn(
          "outbox: {} MiB in memory waiting for the daemon (the cap without a spool): sampling is paused "
          "until the daemon acknowledges; nothing is dropped",
          memory_ >> 20);
    }
  } else {
    const auto paused = std::chrono::duration_cast<std::chrono::milliseconds>(now - full_since_);
    spdlog::info("outbox: room again after {:.1f} s: sampling resumes", paused.count() / 1000.0);
  }
}

std::chrono::milliseconds Outbox::wait_for_room(const std::stop_token& stop) {
  std::unique_lock lock(mutex_);
  if (!full_locked() || closed_) return std::chrono::milliseconds(0);
  const auto started = std::chrono::steady_clock::now();
  room_.wait(lock, stop, [this] { return closed_ || !full_locked(); });
  const auto waited = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  paused_total_ += waited;
  return waited;
}

void Outbox::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  room_.notify_all();
}

std::chrono::milliseconds Outbox::paused_total() const {
  std::lock_guard lock(mutex_);
  return paused_total_;
}

std::uint64_t Outbox::acked_through() const {
  std::lock_guard lock(mutex_);
  std::uint64_t lowest = next_seq_;
  for (const auto* list : {&unacked_, &sealed_}) {
    for (const Held& held : *list) {
      if (held.epoch == epoch_) lowest = std::min(lowest, held.seq);
    }
  }
  return lowest - 1;
}

std::size_t Outbox::pending_items() const {
  std::lock_guard lock(mutex_);
  std::size_t items = pending_.size();
  for (const Held& held : sealed_) items += held.items;
  return items;
}

std::size_t Outbox::unacked_count() const {
  std::lock_guard lock(mutex_);
  return unacked_.size();
}

std::size_t Outbox::bytes_held() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

std::size_t Outbox::memory_bytes() const {
  std::lock_guard lock(mutex_);
  return memory_;
}

bool Outbox::idle() const {
  std::lock_guard lock(mutex_);
  return pending_.empty() && sealed_.empty() && unacked_.empty();
}

}  // namespace kiln::agent
