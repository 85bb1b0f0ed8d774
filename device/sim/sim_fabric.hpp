#pragma once
// The links of a simulated rack: chips wired by slot as the rack's topology
// says, each cable with a bandwidth per direction, a hop latency, up/down
// state and, at each receiver, bit errors, CRC and retransmit counters.
//
// Wiring (chip index = position in the rack, i.e. slot order):
//   ring     link 0 → next chip's link 1, link 1 → previous chip's link 0
//   torus2d  chips on a rows × cols grid, row-major (rows = the largest
//            divisor of n not above √n); links 0/1 → ±x, 2/3 → ±y, wrapping.
//            A link that would loop back to its own chip stays unwired.
//   full     link i → the i-th other chip (in slot order)
// A link index at or beyond chip_link_count() is not wired; in a rack of
// mixed SKUs a cable exists only where both ends have that link.
//
// Collectives are timed by their algorithm: ring algorithms run on two
// rings (slot order forward and backward, half the data each), alltoall
// sends each pair its share directly; every message follows a shortest
// path. Each directed link's load over its effective bandwidth
// (link_degraded and CRC retransmits lower it) gives the time, plus a hop
// latency per algorithm step, so a slow link slows every collective
// through it, and a down link on a path stalls the collective (as NCCL
// would hang until its timeout). With `check`, real data moves along the
// same paths on small buffers (collective_data.hpp).

#include <memory>
#include <vector>

#include "core/result.hpp"
#include "device/chip.hpp"
#include "device/collective.hpp"
#include "device/lab.hpp"
#include "device/sim/sim_chip.hpp"

namespace kiln::device {

inline constexpr double kHopLatencyS = 2e-6;       // per link hop per algorithm step
inline constexpr double kFramePayloadBytes = 256;  // data per link-layer frame
inline constexpr double kFrameOverheadBytes = 16;  // header + CRC
// Share of bad frames whose corruption the CRC misses. A CRC-32 misses
// random errors with probability 2^-32; at the high bit error rates a
// failing link shows, errors come in bursts beyond the CRC's guaranteed
// Hamming distance, and the model uses this (documented) larger figure so
// that a badly erroring link visibly corrupts data.
inline constexpr double kCrcEscapeProbability = 1e-6;

struct LinkEnd {
  int chip = -1;
  int link = -1;
  bool wired() const { return chip >= 0; }
};

// [chip][link] → far end, for n chips with `links` links each.
std::vector<std::vector<LinkEnd>> wire_topology(Topology topology, int chips, int links);

class SimFabric final : public Fabric {
 public:
  // `chips`: the rack's chips in slot order, all SimChips (from
  // make_sim_chips), which must outlive the fabric. Wiring tells each chip
  // its far ends.
  static Result<std::unique_ptr<SimFabric>> make(Topology topology, const std::vector<Chip*>& chips);

  int chip_count() const override { return static_cast<int>(chips_.size()); }
  Result<CollectiveSlice> run_collective(const CollectiveWork& work, Seconds dt) override;
  double peak_busbw_gbps(CollectiveOp op) const override;

  LinkEnd peer(int chip, int link) const {
    return wiring_[static_cast<std::size_t>(chip)][static_cast<std::size_t>(link)];
  }
  // Hops (sending chip, its link) from `from` to `to`; empty when unreachable.
  const std::vector<LinkEnd>& route(int from, int to) const;

 private:
  struct Flow {
    int from = 0, to = 0;
    double bytes = 0;  // per collective
  };

  SimFabric(Topology topology, std::vector<SimChip*> chips);
  void compute_routes();
  std::vector<Flow> flows(const CollectiveWork& work) const;
  // Bytes each directed link (sending chip, link) carries in one collective.
  std::vector<std::vector<double>> link_loads(const CollectiveWork& work, std::size_t* max_hops) const;
  int latency_steps(CollectiveOp op) const;

  std::vector<SimChip*> chips_;
  std::vector<std::vector<LinkEnd>> wiring_;
  std::vector<std::vector<LinkEnd>> routes_;  // [from * n + to]
};

// The rack's fabric over chips made by make_sim_chips for `rack`.
Result<std::unique_ptr<SimFabric>> make_sim_fabric(const RackSpec& rack,
                                                   const std::vector<std::unique_ptr<Chip>>& chips);

}  // namespace kiln::device
