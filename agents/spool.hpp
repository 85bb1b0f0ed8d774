#pragma once
// The agent's on-disk spool (docs/protocol.md, "Agent spool"): every item
// the outbox is given is appended here before it can be sent, so a batch
// survives the agent's kill -9 and a restarted agent resends it with its
// original (rack, epoch, seq). One file per batch, `<epoch>-<seq>.batch`,
// 0600 in a 0700 directory the agent's user owns; a BatchAck deletes it.
//
// Each file is a sequence of records: u32 length, u32 CRC32 (zlib) of the
// rest, u8 kind, payload — kind 0 the rack's id (first record), 1 a
// serialized Sample, 2 a serialized ChipStepResult, 3 a serialized
// TelemetryChunk. The batch being filled
// is appended to item by item; a torn last record (the agent killed mid
// write) fails its length or checksum and is skipped with a warning.
//
// The spool also keeps the rack's epoch key (`epoch.key`, 0600): every epoch
// of this spool registers with it, which proves to kilnd that the batches of
// an earlier epoch read back from here are this spool's (DESIGN §8).
//
// Bounded: `max_bytes` of files at most; full() says so and the outbox
// pauses sampling until acks free room. Not thread-safe: the outbox locks.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "schema/kiln.pb.h"

namespace kiln::agent {

struct SpoolOptions {
  static constexpr std::uint64_t kDefaultMaxBytes = std::uint64_t{1} << 30;  // 1 GiB
  std::filesystem::path dir;
  std::uint64_t max_bytes = kDefaultMaxBytes;
};

class Spool {
 public:
  // Creates the directory (0700) if it is missing. Refused: a directory (or
  // key file) another user owns or that group or others may read, write or
  // enter; a spool of another rack. Existing batch files are read back.
  static Result<std::unique_ptr<Spool>> open(SpoolOptions options, const std::string& rack);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  const std::string& epoch_key() const { return key_; }
  // What open() found: every batch not yet acknowledged, in (epoch, seq)
  // order, including the one that was being filled (its valid records).
  std::vector<kiln::v1::AgentBatch> take_recovered();
  // The newest epoch open() found a batch of (0: none): a new epoch must be later.
  std::uint64_t newest_epoch() const { return newest_epoch_; }
  // What open() had to skip (torn or corrupt records), for the log.
  const std::vector<std::string>& warnings() const { return warnings_; }

  // The batch being filled: appends one item to file (epoch, seq), creating it.
  Status append_sample(std::uint64_t epoch, std::uint64_t seq, const kiln::v1::Sample& sample);
  Status append_result(std::uint64_t epoch, std::uint64_t seq, const kiln::v1::ChipStepResult& result);
  Status append_chunk(std::uint64_t epoch, std::uint64_t seq, const kiln::v1::TelemetryChunk& chunk);
  // Closes the file being filled (no more appends to it).
  void seal();
  // Reads batch (epoch, seq) back (for one whose memory copy was dropped).
  Result<kiln::v1::AgentBatch> load(std::uint64_t epoch, std::uint64_t seq) const;
  // Acknowledged: the file goes.
  void remove(std::uint64_t epoch, std::uint64_t seq);

  std::uint64_t bytes() const { return bytes_; }
  std::uint64_t max_bytes() const { return options_.max_bytes; }
  bool full() const { return bytes_ >= options_.max_bytes; }
  const std::filesystem::path& dir() const { return options_.dir; }

 private:
  Spool(SpoolOptions options, std::string rack, std::string key);
  Status append(std::uint64_t epoch, std::uint64_t seq, std::uint8_t kind, const std::string& payload);
  std::filesystem::path file(std::uint64_t epoch, std::uint64_t seq) const;
  void recover();

  SpoolOptions options_;
  std::string rack_;
  std::string key_;
  std::uint64_t bytes_ = 0;
  std::uint64_t newest_epoch_ = 0;
  int fd_ = -1;  // the batch being filled
  std::uint64_t open_epoch_ = 0, open_seq_ = 0;
  std::vector<kiln::v1::AgentBatch> recovered_;
  std::vector<std::string> warnings_;
};

// Parses the records of one batch file (pure: bytes in). Stops at the first
// record that is short or fails its checksum, saying so in `warning`.
struct SpoolFileContents {
  std::string rack;
  kiln::v1::AgentBatch batch;
  std::string warning;  // empty: every byte was a good record
};
SpoolFileContents parse_spool_file(const std::string& bytes);

}  // namespace kiln::agent
