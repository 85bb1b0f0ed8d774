#pragma once
// Everything the agent reports waits here until the daemon has acknowledged
// it (DESIGN §8, docs/protocol.md steps 4–5). Runner threads push samples
// and results; the daemon link forms numbered batches from them and drops a
// batch only when its BatchAck arrives, so a batch lost with a connection is
// resent after the reconnect. Thread-safe.
//
// Memory: nothing is dropped. Above `warn_bytes` pending a warning is logged
// (once per crossing); the on-disk spool of DESIGN §10 will take over there.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

#include "schema/kiln.pb.h"

namespace kiln::agent {

using BatchPtr = std::shared_ptr<const kiln::v1::AgentBatch>;

class Outbox {
 public:
  static constexpr std::size_t kDefaultBatchItems = 2000;
  // Well under wire::kMaxFrameBytes (4 MiB) so that a batch always fits a frame.
  static constexpr std::size_t kDefaultBatchBytes = std::size_t{1} << 20;
  static constexpr std::size_t kDefaultWarnBytes = std::size_t{256} << 20;

  Outbox(std::string rack, std::uint64_t epoch, std::size_t warn_bytes = kDefaultWarnBytes);

  void push_sample(kiln::v1::Sample sample);
  void push_result(kiln::v1::ChipStepResult result);

  // The next batch (seq 1, 2, …) from the oldest pending items, in the order
  // they were pushed: at most `max_items`, and no more than `max_bytes` of
  // items unless a single item is larger. nullptr when nothing is pending.
  // The batch stays unacknowledged until ack().
  BatchPtr take_batch(std::size_t max_items = kDefaultBatchItems, std::size_t max_bytes = kDefaultBatchBytes);

  // Drops batch `seq` of `epoch`. False when it is not (or no longer) held,
  // e.g. a second ack, or an ack for another epoch.
  bool ack(std::uint64_t epoch, std::uint64_t seq);

  // Batches taken but not acknowledged, in sequence order: what to resend
  // after a reconnect.
  std::vector<BatchPtr> unacked() const;

  // Highest seq such that it and every seq before it are acknowledged.
  std::uint64_t acked_through() const;
  std::size_t pending_items() const;
  std::size_t unacked_count() const;
  std::size_t bytes_held() const;  // pending + unacknowledged, serialized size
  bool idle() const;               // nothing pending, nothing unacknowledged

  const std::string& rack() const { return rack_; }
  std::uint64_t epoch() const { return epoch_; }

 private:
  using Item = std::variant<kiln::v1::Sample, kiln::v1::ChipStepResult>;
  struct Pending {
    Item item;
    std::size_t bytes = 0;
  };
  struct Sent {
    BatchPtr batch;
    std::size_t bytes = 0;
  };

  void push(Item item, std::size_t bytes);
  void check_memory_locked();

  const std::string rack_;
  const std::uint64_t epoch_;
  const std::size_t warn_bytes_;

  mutable std::mutex mutex_;
  std::deque<Pending> pending_;
  std::deque<Sent> unacked_;  // seq order
  std::uint64_t next_seq_ = 1;
  std::size_t bytes_ = 0;
  bool warned_ = false;
};

}  // namespace kiln::agent
