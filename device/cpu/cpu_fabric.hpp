#pragma once
// The links of a host split into several cpu chips: shared memory. Each
// chip owns a buffer; a collective moves real data between the buffers in
// the order the algorithm prescribes (ring reduce-scatter and allgather
// for allreduce, allgather and reduce_scatter; direct copies for alltoall
// and sendrecv) and checks every chip's result against the exact answer.
// The slice's caller (the phase's rendezvous) runs it on one thread while
// the chips' threads wait, so the bandwidth is what one core moves through
// memory: a figure for spotting a host that is far off, not a peak. Buffers
// are capped at kCpuCollectiveMaxBytes per chip.

#include <cstdint>
#include <string>
#include <vector>

#include "device/collective.hpp"

namespace kiln::device {

inline constexpr std::uint64_t kCpuCollectiveMaxBytes = std::uint64_t{16} << 20;

class CpuFabric final : public Fabric {
 public:
  explicit CpuFabric(int chips) : chips_(chips) {}

  int chip_count() const override { return chips_; }
  using Fabric::run_collective;
  // Whole collectives until `dt` has passed (at least one). Shared memory
  // has no links to route round: with a chip absent, nothing runs and the
  // others are told why (the host has no rack to re-form).
  Result<CollectiveSlice> run_collective(const CollectiveWork& work, Seconds dt,
                                         const std::vector<std::string>& absent) override;
  // No nominal rate to compare with: `of: peak` limits are inconclusive.
  double peak_busbw_gbps(CollectiveOp) const override { return 0; }

  // Tests: corrupt one element received by `chip` in every collective.
  void plant_corruption(int chip) { corrupt_chip_ = chip; }

 private:
  void fill(std::size_t elements);
  void ring_step(std::size_t chunk_len, auto sent, bool reduce);
  void run_once(CollectiveOp op, std::size_t elements);
  std::uint64_t check(CollectiveOp op, std::size_t elements, std::size_t chip) const;

  int chips_;
  std::vector<std::vector<float>> send_, recv_;  // [chip]
  std::vector<std::vector<float>> staging_;      // [chip]: what arrives from the previous chip
  int corrupt_chip_ = -1;
};

}  // namespace kiln::device
