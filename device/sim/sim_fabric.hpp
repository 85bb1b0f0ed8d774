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
// through it. With `check`, real data moves along the same paths on small
// buffers (collective_data.hpp). A working link direction the op's routes
// leave idle carries a link test stream at its full rate meanwhile (CRC
// counted, data checked, in no bandwidth figure), so every link is tested
// both ways whatever the op and topology.
//
// A hung or absent chip, or a link that is down, re-forms the collective
// (formation.hpp): the chips still joined run it among themselves, over
// routes round what failed, ring algorithms on their own ranks in slot
// order. Every cable between two of them stays in use, so a CRC-erroring
// or narrow link elsewhere in the rack is still found; only the cables of
// a hung or absent chip carry nothing. The per-chip figures of a re-formed
// group are scaled to the whole rack's (collective.hpp): × the group's
// time at nominal link rates over the whole rack's, hop latency included.

#include <array>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

#include "core/result.hpp"
#include "device/chip.hpp"
#include "device/collective.hpp"
#include "device/lab.hpp"
#include "device/sim/collective_data.hpp"
#include "device/sim/formation.hpp"
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

// [chip][link] → far end, for n chips with `links` links each.
Wiring wire_topology(Topology topology, int chips, int links);

class SimFabric final : public Fabric {
 public:
  // `chips`: the rack's chips in slot order, all SimChips (from
  // make_sim_chips), which must outlive the fabric. Wiring tells each chip
  // its far ends.
  static Result<std::unique_ptr<SimFabric>> make(Topology topology, const std::vector<Chip*>& chips);

  int chip_count() const override { return static_cast<int>(chips_.size()); }
  using Fabric::run_collective;
  Result<CollectiveSlice> run_collective(const CollectiveWork& work, Seconds dt,
                                         const std::vector<std::string>& absent) override;
  double peak_busbw_gbps(CollectiveOp op) const override {
    return whole_peak_busbw_gbps_[static_cast<std::size_t>(op)];
  }

  LinkEnd peer(int chip, int link) const {
    return wiring_[static_cast<std::size_t>(chip)][static_cast<std::size_t>(link)];
  }
  // Hops (sending chip, its link) from `from` to `to` over the whole rack's
  // wiring; empty when unreachable.
  const std::vector<LinkEnd>& route(int from, int to) const { return whole_.route(from, to); }
  // Whether clean slices run their data too (collective_data.hpp).
  void set_collective_data(CollectiveData mode) { data_mode_ = mode; }

 private:
  struct Flow {
    int from = 0, to = 0;  // ranks of the group
    double bytes = 0;      // per collective
  };

  SimFabric(Topology topology, std::vector<SimChip*> chips);
  // What the group's ranks send each other in one collective.
  std::vector<Flow> flows(const CollectiveWork& work, int ranks) const;
  // Bytes each directed link (sending chip, link) carries in one collective of `group`.
  std::vector<std::vector<double>> link_loads(const CollectiveWork& work, const Formation& group,
                                              std::size_t* max_hops) const;
  double peak_busbw_gbps(CollectiveOp op, const Formation& group) const;
  // One collective of `group` with every link at its SKU's rate (less
  // frame overhead) and no bit errors, hop latency included; 0: cannot run.
  double nominal_seconds(const CollectiveWork& work, const Formation& group) const;
  // Runs one group's share of the slice: its figures, traffic and data.
  // `usable[chip][link]`: the link works and joins two chips taking part.
  void run_group(const CollectiveWork& work, const Formation& formation, const std::vector<std::vector<bool>>& usable,
                 std::vector<std::vector<LinkTraffic>>& traffic, std::vector<std::vector<std::uint64_t>>& escapes,
                 CollectiveSlice& slice);
  // The share of frames sent on (chip, link) that arrive with a bad CRC.
  double frame_error_at(int chip, int link) const;
  // Why chip `c`, taking part, is in a group of one.
  std::string isolation(int c, const std::vector<std::string>& absent, const std::vector<bool>& taking_part) const;

  std::vector<SimChip*> chips_;
  Wiring wiring_;
  // The last slice's groups and what they were formed from: a rack's
  // collectives re-form only when who takes part or which links work
  // changes, so the routes (a BFS per pair of ranks) are reused until then.
  std::vector<bool> formed_taking_part_;
  std::vector<std::vector<bool>> formed_usable_;
  std::vector<Formation> formed_;
  // link_loads() of formed_'s groups by (op, bytes, group), kept as long as
  // formed_ is: the same every tick of a step (a size sweep has a few sizes).
  struct GroupLoads {
    std::vector<std::vector<double>> load;
    std::size_t max_hops = 0;
  };
  static constexpr std::size_t kKeptGroupLoads = 64;
  std::map<std::tuple<CollectiveOp, std::uint64_t, const Formation*>, GroupLoads> formed_loads_;
  const GroupLoads& formed_group_loads(const CollectiveWork& work, const Formation& group);
  std::vector<double> frame_error_scratch_, slowest_into_scratch_;  // run_group's, kept for their storage
  Formation whole_;                                                 // every chip over every cable
  std::array<double, 5> whole_peak_busbw_gbps_{};                   // whole_'s, by CollectiveOp
  CollectiveData data_mode_ = CollectiveData::when_corrupted;
};

// The rack's fabric over chips made by make_sim_chips for `rack`.
Result<std::unique_ptr<SimFabric>> make_sim_fabric(const RackSpec& rack,
                                                   const std::vector<std::unique_ptr<Chip>>& chips);

}  // namespace kiln::device
