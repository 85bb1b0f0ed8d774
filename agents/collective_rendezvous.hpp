#pragma once
// Where the chip threads of one phase meet to run a collective together.
//
// A collective needs every chip of the rack at once (SimFabric drives them
// all in one call), while each chip runs its phase on its own thread. Each
// tick, every member calls exchange() with its share of the tick; the last
// to arrive runs the slice on the fabric (under the lock, so no member
// drives its chip meanwhile) and all of them get the same slice.
//
// A member that stops taking part (its step ended early: a hang, a chip
// with no working link left, a bad param) leaves with its reason; from
// then on the others' slices run without it: the fabric re-forms the
// collective among them (device/collective.hpp), as a lab re-cables round
// a dead board and builds a new communicator. A member stopped while it
// waits (an abort) breaks the round instead: every exchange then fails
// with the reason, so no thread waits forever.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "agents/fiber_sync.hpp"
#include "core/result.hpp"
#include "core/units.hpp"
#include "device/collective.hpp"

namespace kiln::agent {

class CollectiveRendezvous {
 public:
  // `serials`: the members, in the fabric's chip order.
  CollectiveRendezvous(device::Fabric& fabric, std::vector<std::string> serials);

  // The member index of `serial`, or nullopt.
  std::optional<int> member(const std::string& serial) const;
  int members() const { return static_cast<int>(serials_.size()); }

  // Step `step_index`'s next slice: blocks until every member still taking
  // part has called it (or `stop`), then returns the slice every member sees.
  // Members must ask for the same op; the slice takes the first member's
  // size and the longest share (real chips drift apart a little). Every
  // member gets the same immutable slice (a rack's slice is one per tick,
  // sized by the rack: one copy per member would cost more than the slice).
  Result<std::shared_ptr<const device::CollectiveSlice>> exchange(std::uint32_t step_index, int member,
                                                                  const device::CollectiveWork& work, Seconds share,
                                                                  const std::stop_token& stop);
  // `member` takes no further part in step `step_index`. One that
  // `completed` its step ends it for the others too (exchange answers
  // ErrorCode::conflict, "done"): real chips reach a step's end a tick
  // apart. Any other leaving re-forms the collective without it; `why`
  // tells the others.
  void leave(std::uint32_t step_index, int member, const std::string& why, bool completed = false);

 private:
  struct Round {
    std::uint64_t generation = 0;
    int arrived = 0;
    std::optional<device::CollectiveWork> work;
    Seconds share{0};
    std::vector<bool> left;
    std::vector<std::string> absent;  // [member]: why it left (the fabric's `absent`)
    std::string broken;               // non-empty: why no slice can complete any more
    bool done = false;                // a member completed the step
    Result<std::shared_ptr<const device::CollectiveSlice>> last = make_error(ErrorCode::internal, "no slice yet");
  };

  Round& round(std::uint32_t step_index);
  int present(const Round& r) const;
  // Every member still taking part has arrived: runs the slice (under the lock).
  void run_slice(Round& r);

  device::Fabric& fabric_;
  std::vector<std::string> serials_;
  ChipMutex mutex_;  // fiber-aware: the chips may be fibers of one thread
  ChipCondition cv_;
  std::map<std::uint32_t, Round> rounds_;
};

}  // namespace kiln::agent
