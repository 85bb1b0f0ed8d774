#pragma once
// Collective operations over a rack's links (DESIGN §4 `collective`), as a
// pattern runner sees them: one call runs a slice of back-to-back
// collectives on every chip of the rack together.
//
// Bandwidth figures follow nccl-tests (doc/PERFORMANCE.md): for a message
// of S bytes taking t seconds, algbw = S / t and busbw = algbw × factor,
// factor = 2(n−1)/n (allreduce), (n−1)/n (allgather, reduce_scatter,
// alltoall), 1 (sendrecv), so busbw compares with link bandwidth whatever n.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/units.hpp"

namespace kiln::device {

enum class CollectiveOp { allreduce, allgather, reduce_scatter, alltoall, sendrecv };
const char* to_string(CollectiveOp op);
std::optional<CollectiveOp> parse_collective_op(std::string_view text);
// nccl-tests' busbw / algbw for `ranks` ranks.
double busbw_factor(CollectiveOp op, int ranks);

struct CollectiveWork {
  CollectiveOp op = CollectiveOp::allreduce;
  std::uint64_t bytes = 64ULL << 20;  // nccl-tests "size": per-rank buffer (allgather: the gathered output)
  bool check = true;                  // move and verify real data (nccl-tests -c 1)
};

struct CollectiveLinkSlice {
  double sent_bytes = 0;
  double gbps = 0;                // sent / elapsed
  std::uint64_t crc_errors = 0;   // frames received on this link with a bad CRC this slice
  std::uint64_t retransmits = 0;  // ... and sent again
  bool up = true;
};

// A hop check that failed: data received on (chip, link) differed from
// what its sender sent.
struct CollectiveMismatch {
  int chip = 0;  // index in the rack (slot order)
  int link = 0;
  std::uint64_t count = 0;  // messages that arrived corrupted this slice
};

// Chips that ran one collective together in a slice. When a chip hangs or
// leaves, or a link is down, the fabric re-forms the collective around it
// (as NCCL would after a lab re-cabled around a dead board): the chips
// still joined by working links run it among themselves, each connected
// part on its own.
struct CollectiveGroup {
  std::vector<int> chips;             // rank order (slot order)
  double collectives = 0;             // operations completed (fractional)
  double seconds_per_collective = 0;  // 0 when it could not run
  double algbw_gbps = 0;              // measured, nccl-tests figures for this group's ranks
  double busbw_gbps = 0;
  double peak_busbw_gbps = 0;  // this group's figure with every link at its nominal rate
  bool reformed = false;       // not the whole rack over its whole wiring
  double scale = 1;            // the group's chip figures were multiplied by this (see chip_busbw_gbps)
};

struct CollectiveSlice {
  Seconds elapsed{0};
  // The rack's figures, as nccl-tests prints them: those of the largest
  // group (the whole rack unless the collective was re-formed).
  double collectives = 0;             // operations completed (fractional)
  double seconds_per_collective = 0;  // 0 when stalled
  double algbw_gbps = 0;
  double busbw_gbps = 0;
  // [chip]: the figure the links into that chip sustain (receive side):
  // the collective timed as if only those links limited it. The rack's
  // figure is the smallest of them; a chip whose own links are healthy
  // shows full bandwidth even when a slow link elsewhere holds the rack
  // back, so the slow link's ends are the chips a limit fails. In a
  // re-formed group the figure is the whole rack's equivalent: × the
  // group's time for this collective over the whole rack's, both with
  // every link at its nominal rate (latency included), and busbw with the
  // whole rack's factor. So it compares with `busbw_gbps {of: peak}` as the
  // whole rack's would: a chip whose links are healthy shows what it
  // would in the whole rack, and a smaller ring or a detour round a dead
  // link fails no good chip. 0 for a chip that took no part.
  std::vector<double> chip_algbw_gbps;
  std::vector<double> chip_busbw_gbps;
  std::vector<std::vector<CollectiveLinkSlice>> links;  // [chip][link]
  std::vector<CollectiveMismatch> mismatches;
  std::vector<std::uint64_t> result_errors;  // [chip]: output words that differ from the reference
  std::vector<CollectiveGroup> groups;
  std::vector<int> chip_group;    // [chip]: index in groups, −1 when it took no part
  std::vector<std::string> idle;  // [chip]: why it took no part (empty: it did)
  double peak_busbw_gbps = 0;     // the whole rack's (Fabric::peak_busbw_gbps)
  std::string reformed;           // non-empty: what the collective was re-formed around
  std::string stalled;            // non-empty: why nothing completed anywhere
};

// The links of one rack; implemented by SimFabric (and later NCCL).
class Fabric {
 public:
  virtual ~Fabric() = default;
  virtual int chip_count() const = 0;
  // `dt` of back-to-back collectives on the chips of the rack.
  // `absent[chip]` (one per chip) is empty for a chip whose caller waits in
  // this slice, otherwise why it takes no part: the fabric neither touches
  // it (another thread may drive it) nor routes through it, and re-forms
  // the collective among the others. The caller must not drive the present
  // chips from another thread meanwhile.
  virtual Result<CollectiveSlice> run_collective(const CollectiveWork& work, Seconds dt,
                                                 const std::vector<std::string>& absent) = 0;
  // Every chip takes part.
  Result<CollectiveSlice> run_collective(const CollectiveWork& work, Seconds dt) {
    return run_collective(work, dt, std::vector<std::string>(static_cast<std::size_t>(chip_count())));
  }
  // The busbw of `op` with every link at its nominal rate and no latency:
  // what `busbw_gbps {of: peak}` compares with. 0 when the op cannot run.
  virtual double peak_busbw_gbps(CollectiveOp op) const = 0;
};

}  // namespace kiln::device
