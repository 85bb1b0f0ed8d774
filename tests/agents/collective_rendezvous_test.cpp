// The phase's collective rendezvous: a member that leaves (a hung chip, one
// with nothing left to test it) no longer stops the others; their slices
// run without it, and the fabric is told who is absent and why.

#include <mutex>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "agents/collective_rendezvous.hpp"

namespace kiln::agent {
namespace {

// Records who each slice was run for.
class RecordingFabric final : public device::Fabric {
 public:
  explicit RecordingFabric(int chips) : chips_(chips) {}
  int chip_count() const override { return chips_; }
  using Fabric::run_collective;
  Result<device::CollectiveSlice> run_collective(const device::CollectiveWork&, Seconds dt,
                                                 const std::vector<std::string>& absent) override {
    std::lock_guard lock(mutex_);
    calls_.push_back(absent);
    device::CollectiveSlice slice;
    slice.elapsed = dt;
    slice.idle = absent;
    slice.collectives = 1;
    return slice;
  }
  double peak_busbw_gbps(device::CollectiveOp) const override { return 0; }

  std::vector<std::vector<std::string>> calls() {
    std::lock_guard lock(mutex_);
    return calls_;
  }

 private:
  int chips_;
  std::mutex mutex_;
  std::vector<std::vector<std::string>> calls_;
};

TEST(CollectiveRendezvous, ALeavingMemberIsAbsentFromTheOthersSlicesInsteadOfStallingThem) {
  RecordingFabric fabric(3);
  CollectiveRendezvous rendezvous(fabric, {"a", "b", "c"});
  const device::CollectiveWork work;
  std::stop_source stop;
  // Every member takes part in the first slice.
  std::vector<std::jthread> threads;
  std::vector<int> ok(3, 0);  // not vector<bool>: each thread writes its own element
  for (int m = 0; m < 3; ++m) {
    threads.emplace_back([&, m] {
      ok[static_cast<std::size_t>(m)] =
          static_cast<int>(static_cast<bool>(rendezvous.exchange(0, m, work, Seconds{0.1}, stop.get_token())));
    });
  }
  threads.clear();
  EXPECT_EQ(ok, (std::vector<int>{1, 1, 1}));
  // Then "c" hangs and leaves, whether or not the others already wait for it.
  std::vector<std::string> seen(2);
  for (int m = 0; m < 2; ++m) {
    threads.emplace_back([&, m] {
      auto slice = rendezvous.exchange(0, m, work, Seconds{0.1}, stop.get_token());
      if (slice) seen[static_cast<std::size_t>(m)] = (*slice)->idle.at(2);
    });
  }
  rendezvous.leave(0, 2, "chip hung");
  threads.clear();
  EXPECT_EQ(seen, (std::vector<std::string>{"chip hung", "chip hung"}));
  // The two go on alone.
  for (int m = 0; m < 2; ++m) {
    threads.emplace_back([&, m] {
      ok[static_cast<std::size_t>(m)] =
          static_cast<int>(static_cast<bool>(rendezvous.exchange(0, m, work, Seconds{0.1}, stop.get_token())));
    });
  }
  threads.clear();
  EXPECT_TRUE(ok[0] && ok[1]);
  const auto calls = fabric.calls();
  ASSERT_EQ(calls.size(), 3u);
  EXPECT_EQ(calls[0], (std::vector<std::string>{"", "", ""}));
  EXPECT_EQ(calls[2], (std::vector<std::string>{"", "", "chip hung"}));
}

TEST(CollectiveRendezvous, AMemberThatCompletesEndsTheStepForTheOthers) {
  RecordingFabric fabric(2);
  CollectiveRendezvous rendezvous(fabric, {"a", "b"});
  std::stop_source stop;
  rendezvous.leave(0, 1, "", true);
  const auto slice = rendezvous.exchange(0, 0, device::CollectiveWork{}, Seconds{0.1}, stop.get_token());
  ASSERT_FALSE(slice);
  EXPECT_EQ(slice.error().code, ErrorCode::conflict);
  EXPECT_TRUE(fabric.calls().empty());
}

}  // namespace
}  // namespace kiln::agent
