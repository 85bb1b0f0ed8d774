#include "agents/outbox.hpp"

#include <algorithm>
#include <utility>

#include <spdlog/spdlog.h>

namespace kiln::agent {

Outbox::Outbox(std::string rack, std::uint64_t epoch, std::size_t warn_bytes)
    : rack_(std::move(rack)), epoch_(epoch), warn_bytes_(warn_bytes) {}

void Outbox::push_sample(kiln::v1::Sample sample) {
  const std::size_t bytes = sample.ByteSizeLong();
  push(Item(std::move(sample)), bytes);
}

void Outbox::push_result(kiln::v1::ChipStepResult result) {
  const std::size_t bytes = result.ByteSizeLong();
  push(Item(std::move(result)), bytes);
}

void Outbox::push(Item item, std::size_t bytes) {
  std::lock_guard lock(mutex_);
  pending_.push_back(Pending{std::move(item), bytes});
  bytes_ += bytes;
  check_memory_locked();
}

void Outbox::check_memory_locked() {
  if (!warned_ && bytes_ > warn_bytes_) {
    warned_ = true;
    spdlog::warn("outbox: {} MiB of telemetry waiting for the daemon ({} batches unacknowledged); it stays in memory",
                 bytes_ >> 20, unacked_.size());
  } else if (warned_ && bytes_ < warn_bytes_ / 2) {
    warned_ = false;  // hysteresis: warn again on the next crossing
    spdlog::info("outbox: back to {} MiB waiting for the daemon", bytes_ >> 20);
  }
}

BatchPtr Outbox::take_batch(std::size_t max_items, std::size_t max_bytes) {
  std::lock_guard lock(mutex_);
  if (pending_.empty()) return nullptr;
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
    } else {
      *batch->add_results() = std::move(std::get<kiln::v1::ChipStepResult>(front.item));
    }
    bytes += front.bytes;
    ++items;
    pending_.pop_front();
  }
  BatchPtr shared = std::move(batch);
  unacked_.push_back(Sent{shared, bytes});
  return shared;
}

bool Outbox::ack(std::uint64_t epoch, std::uint64_t seq) {
  std::lock_guard lock(mutex_);
  if (epoch != epoch_) return false;
  const auto it =
      std::find_if(unacked_.begin(), unacked_.end(), [seq](const Sent& sent) { return sent.batch->seq() == seq; });
  if (it == unacked_.end()) return false;
  bytes_ -= it->bytes;
  unacked_.erase(it);
  check_memory_locked();
  return true;
}

std::vector<BatchPtr> Outbox::unacked() const {
  std::lock_guard lock(mutex_);
  std::vector<BatchPtr> out;
  out.reserve(unacked_.size());
  for (const Sent& sent : unacked_) out.push_back(sent.batch);
  return out;
}

std::uint64_t Outbox::acked_through() const {
  std::lock_guard lock(mutex_);
  return unacked_.empty() ? next_seq_ - 1 : unacked_.front().batch->seq() - 1;
}

std::size_t Outbox::pending_items() const {
  std::lock_guard lock(mutex_);
  return pending_.size();
}

std::size_t Outbox::unacked_count() const {
  std::lock_guard lock(mutex_);
  return unacked_.size();
}

std::size_t Outbox::bytes_held() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}

bool Outbox::idle() const {
  std::lock_guard lock(mutex_);
  return pending_.empty() && unacked_.empty();
}

}  // namespace kiln::agent
