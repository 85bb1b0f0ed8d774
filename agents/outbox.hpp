#pragma once
// Everything the agent reports waits here until the daemon has acknowledged
// it (DESIGN §8, docs/protocol.md steps 4–5 and "Agent spool"). Runner
// threads push samples and results; they become numbered batches (seq 1, 2,
// … of the epoch) when one is full or the daemon link takes one; a batch is
// dropped only when its BatchAck arrives, so one lost with a connection is
// resent after the reconnect. Thread-safe.
//
// With a Spool every item is on disk as soon as it is pushed, a restarted
// agent's outbox starts with the spool's unacknowledged batches (of earlier
// epochs, with their own epoch and seq), and an ack deletes a batch's file.
//
// Bounds: at most `max_in_flight` batches sent and not acknowledged; at most
// `memory_bytes` held in memory — past it a spooled batch lives only on disk
// until it is sent. Full (the spool at its cap; without a spool, memory at
// `memory_bytes`): sampling pauses — wait_for_room() blocks the chips'
// loops, with a warning in the log — until acks make room. Results are never
// refused (they are few and small); nothing is dropped.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <variant>
#include <vector>

#include "agents/spool.hpp"
#include "schema/kiln.pb.h"

namespace kiln::agent {

using BatchPtr = std::shared_ptr<const kiln::v1::AgentBatch>;

struct OutboxLimits {
  static constexpr std::size_t kDefaultMemoryBytes = std::size_t{256} << 20;
  static constexpr std::size_t kDefaultMaxInFlight = 32;
  std::size_t memory_bytes = kDefaultMemoryBytes;
  std::size_t max_in_flight = kDefaultMaxInFlight;
};

class Outbox {
 public:
  static constexpr std::size_t kDefaultBatchItems = 2000;
  // Well under wire::kMaxFrameBytes (4 MiB) so that a batch always fits a frame.
  static constexpr std::size_t kDefaultBatchBytes = std::size_t{1} << 20;

  // `spool` (may be null: memory only) must outlive the outbox; its
  // recovered batches are taken over and sent first.
  Outbox(std::string rack, std::uint64_t epoch, OutboxLimits limits = {}, Spool* spool = nullptr);

  void push_sample(kiln::v1::Sample sample);
  void push_result(kiln::v1::ChipStepResult result);
  // A chip-step's telemetry already encoded (agents/telemetry_chunker.hpp).
  void push_chunk(kiln::v1::TelemetryChunk chunk);

  // The next batch to send: a sealed one (recovered from the spool first),
  // else one made now from the oldest pending items, in the order they were
  // pushed: at most `max_items`, and no more than `max_bytes` of items unless
  // a single item is larger (with a spool, all pending items: the file holds
  // them). nullptr when nothing waits or `max_in_flight` batches are
  // unacknowledged. The batch stays unacknowledged until ack().
  BatchPtr take_batch(std::size_t max_items = kDefaultBatchItems, std::size_t max_bytes = kDefaultBatchBytes);

  // Drops batch `seq` of `epoch` (and its spool file). False when it is not
  // (or no longer) held, e.g. a second ack.
  bool ack(std::uint64_t epoch, std::uint64_t seq);

  // Batches taken but not acknowledged, in the order taken: what to resend
  // after a reconnect.
  std::vector<BatchPtr> unacked() const;

  // Full: blocks until there is room again, `stop` is requested or close().
  // Returns how long it waited.
  std::chrono::milliseconds wait_for_room(const std::stop_token& stop);
  bool full() const;
  // Releases every wait_for_room() for good (agent shutdown).
  void close();
  // Time sampling has spent paused for a full outbox, in total.
  std::chrono::milliseconds paused_total() const;

  // Highest seq of this epoch such that it and every seq before it are acknowledged.
  std::uint64_t acked_through() const;
  std::size_t pending_items() const;  // pushed, not yet sent
  std::size_t unacked_count() const;
  std::size_t bytes_held() const;    // not yet acknowledged (memory or spool), serialized size
  std::size_t memory_bytes() const;  // of that, what is in memory
  bool idle() const;                 // nothing waiting, nothing unacknowledged

  const std::string& rack() const { return rack_; }
  std::uint64_t epoch() const { return epoch_; }

 private:
  using Item = std::variant<kiln::v1::Sample, kiln::v1::ChipStepResult, kiln::v1::TelemetryChunk>;
  struct Pending {
    Item item;
    std::size_t bytes = 0;
  };
  // A sealed batch: in memory, or (batch null) only in the spool.
  struct Held {
    std::uint64_t epoch = 0;
    std::uint64_t seq = 0;
    BatchPtr batch;
    std::size_t bytes = 0;
    std::size_t items = 0;
    bool spooled = false;
  };

  void push(Item item, std::size_t bytes);
  void seal_locked(std::size_t max_items, std::size_t max_bytes);
  void trim_memory_locked();
  bool full_locked() const;
  void report_full_locked(bool full);

  const std::string rack_;
  const std::uint64_t epoch_;
  const OutboxLimits limits_;
  Spool* const spool_;

  mutable std::mutex mutex_;
  std::condition_variable_any room_;
  std::deque<Pending> pending_;
  std::size_t pending_bytes_ = 0;
  bool pending_spooled_ = true;  // every pending item reached the spool file
  std::deque<Held> sealed_;      // not yet sent, oldest first
  std::deque<Held> unacked_;     // sent, in the order taken
  std::uint64_t next_seq_ = 1;
  std::size_t bytes_ = 0;   // everything not acknowledged
  std::size_t memory_ = 0;  // of it, in memory
  bool closed_ = false;
  bool reported_full_ = false;
  bool spool_error_logged_ = false;
  std::chrono::steady_clock::time_point full_since_{};
  std::chrono::milliseconds paused_total_{0};
};

}  // namespace kiln::agent
