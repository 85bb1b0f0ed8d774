#pragma once
// The cap on agent batches read and not yet stored (DESIGN §8, "Bounded
// queues"): what the writer's queue may hold in bytes. A batch is counted
// from when its frame is decoded until its transaction has committed (or it
// was refused); while the count is over the cap, every agent session that
// delivers a batch stops being read, so its data waits in the agent's
// outbox and spool (backpressure, nothing dropped). Reading resumes for all
// of them once the count falls to half the cap. On the io thread only.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "schema/kiln.pb.h"

namespace kiln::daemon {

class Session;

class IngestBudget {
 public:
  static constexpr std::size_t kDefaultMaxBytes = std::size_t{64} << 20;

  explicit IngestBudget(std::size_t max_bytes = kDefaultMaxBytes) : max_bytes_(max_bytes) {}

  // What a parsed batch holds in memory, estimated: its wire size, plus what
  // each Sample and value costs as a C++ object (measured: a batch of
  // Samples takes several times its wire size; chunks little more than it).
  static std::size_t resident_bytes(const kiln::v1::AgentBatch& batch);

  // A batch of `bytes` from `session` is on its way to the writer.
  void take(const std::shared_ptr<Session>& session, std::size_t bytes);
  // That batch is stored, refused or given up.
  void give_back(std::size_t bytes);

  std::size_t bytes() const { return bytes_; }
  std::size_t max_bytes() const { return max_bytes_; }
  std::size_t paused_sessions() const { return paused_.size(); }
  std::size_t peak_bytes() const { return peak_; }
  // Times a session was paused so far (read from any thread).
  std::uint64_t pauses() const { return pauses_.load(); }

 private:
  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
  std::size_t peak_ = 0;
  std::vector<std::weak_ptr<Session>> paused_;
  std::atomic<std::uint64_t> pauses_{0};
};

}  // namespace kiln::daemon
