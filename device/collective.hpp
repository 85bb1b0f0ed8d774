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

struct CollectiveSlice {
  Seconds elapsed{0};
  double collectives = 0;             // operations completed (fractional)
  double seconds_per_collective = 0;  // 0 when stalled
  double algbw_gbps = 0;              // the rack's figure, as nccl-tests prints it
  double busbw_gbps = 0;
  // [chip]: the figure the links into that chip sustain (receive side):
  // the collective timed as if only those links limited it. The rack's
  // figure is the smallest of them; a chip whose own links are healthy
  // shows full bandwidth even when a slow link elsewhere holds the rack
  // back, so the slow link's ends are the chips a limit fails.
  std::vector<double> chip_algbw_gbps;
  std::vector<double> chip_busbw_gbps;
  std::vector<std::vector<CollectiveLinkSlice>> links;  // [chip][link]
  std::vector<CollectiveMismatch> mismatches;
  std::vector<std::uint64_t> result_errors;  // [chip]: output words that differ from the reference
  std::string stalled;                       // non-empty: why nothing completed
};

// The links of one rack; implemented by SimFabric (and later NCCL).
class Fabric {
 public:
  virtual ~Fabric() = default;
  virtual int chip_count() const = 0;
  // `dt` of back-to-back collectives on every chip of the rack. The caller
  // must not drive these chips from another thread meanwhile.
  virtual Result<CollectiveSlice> run_collective(const CollectiveWork& work, Seconds dt) = 0;
  // The busbw of `op` with every link at its nominal rate and no latency:
  // what `busbw_gbps {of: peak}` compares with. 0 when the op cannot run.
  virtual double peak_busbw_gbps(CollectiveOp op) const = 0;
};

}  // namespace kiln::device
