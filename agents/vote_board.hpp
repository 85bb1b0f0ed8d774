#pragma once
// verify: vote (DESIGN §4). Every chip of the phase computes the same GEMM
// tile (identical seeded inputs, GemmWork::input_seed) each tick and brings
// its result here; chips of one SKU are compared, and a chip whose result
// differs from the majority's is the odd one out. Its tile is compared
// element by element with a majority chip's, so the vote localizes the
// corruption to (core, PE, bit) like ABFT does. This catches what a chip
// comparing with itself cannot: a fault that corrupts the same way every
// time.
//
// Like CollectiveRendezvous, each tick blocks until every member has
// voted (the last to arrive counts). A member that stops voting (its step
// ended: a hang, an abort) leaves, and the others vote on without it.

#include <cstdint>
#include <map>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "agents/abft.hpp"
#include "agents/fiber_sync.hpp"
#include "core/result.hpp"
#include "device/chip.hpp"

namespace kiln::agent {

// Fewer chips of a SKU than this cannot outvote one.
inline constexpr int kMinVoters = 3;

struct VoteOutcome {
  bool decided = false;                  // a strict majority of this chip's SKU agreed on one result
  bool with_majority = false;            // this chip's result is the majority's
  std::vector<AbftFinding> differences;  // odd one out: elements that differ from the majority's (capped)
  std::uint64_t differing = 0;           // all of them
  std::string undecided_reason;
};

class VoteBoard {
 public:
  // serial and SKU of every member.
  VoteBoard(std::vector<std::string> serials, std::vector<std::string> skus);

  std::optional<int> member(const std::string& serial) const;

  // This member's tile for its step's next tick; blocks until every member
  // still voting has brought one. `tile` must stay valid until it returns.
  Result<VoteOutcome> vote(std::uint32_t step_index, int member, const device::GemmTile& tile,
                           const std::stop_token& stop);
  void leave(std::uint32_t step_index, int member);

 private:
  struct Round {
    std::uint64_t generation = 0;
    std::vector<const device::GemmTile*> tiles;  // this tick's, per member
    std::vector<VoteOutcome> outcomes;
    int arrived = 0;
    std::vector<bool> left;
  };

  Round& round(std::uint32_t step_index);
  int active(const Round& r) const;
  void count(Round& r) const;
  void release(Round& r);  // counts this tick and wakes the voters

  std::vector<std::string> serials_;
  std::vector<std::string> skus_;
  ChipMutex mutex_;  // fiber-aware: the chips may be fibers of one thread
  ChipCondition cv_;
  std::map<std::uint32_t, Round> rounds_;
};

}  // namespace kiln::agent
