// The lab view's lifecycle states from the daemon's CHIPS answer.
#include "gui/model/lifecycle_states.hpp"
#include "gui/model/lab_state.hpp"

#include <gtest/gtest.h>

#include "tests/gui/gui_test_support.hpp"

namespace kiln::gui {
namespace {

const char* kChips = R"({"chips": [
  {"serial": "A-0", "sku": "trn2-sim", "rack": "r01", "slot": 0, "state": "healthy", "last_seen": null},
  {"serial": "A-1", "sku": "trn2-sim", "rack": "r01", "slot": 1, "state": "quarantined", "last_seen": null},
  {"serial": "B-0", "sku": "trn2-sim", "rack": "r02", "slot": 0, "state": "rma", "last_seen": null},
  {"serial": "B-1", "sku": "trn2-sim", "rack": "r02", "slot": 1, "state": "from-the-future", "last_seen": null}]})";

TEST(LifecycleStates, ReadsEachSerialsStateAndAStateItDoesNotKnowAsUnknown) {
  LifecycleStates states;
  EXPECT_FALSE(states.loaded());
  auto changed = states.load_chips_json(kChips);
  ASSERT_TRUE(changed);
  EXPECT_TRUE(*changed);
  EXPECT_EQ(states.state_of("A-1"), Lifecycle::quarantined);
  EXPECT_EQ(states.state_of("B-0"), Lifecycle::rma);
  EXPECT_EQ(states.state_of("B-1"), Lifecycle::unknown);
  EXPECT_FALSE(states.state_of("Z-9")) << "a chip the daemon does not list has no state, not 'unknown'";
  auto again = states.load_chips_json(kChips);
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
  EXPECT_FALSE(states.load_chips_json("[]"));
  EXPECT_TRUE(states.loaded());
}

TEST(LifecycleStates, TheLabStampsStatesOnChipsKnownNowAndOnThoseThatAppearLater) {
  LabState lab;
  std::vector<testing::FakeChip> chips{{"A-0", "r01", 0}, {"A-1", "r01", 1}};
  lab.apply(testing::make_update(chips, true, 1000), 1000);
  EXPECT_FALSE(lab.find("A-0")->lifecycle);
  auto changed = lab.load_lifecycle_json(kChips);
  ASSERT_TRUE(changed);
  EXPECT_TRUE(*changed);
  EXPECT_EQ(lab.find("A-0")->lifecycle, Lifecycle::healthy);
  EXPECT_EQ(lab.find("A-1")->lifecycle, Lifecycle::quarantined);
  // A reconnect's snapshot rebuilds the chips: they keep their states.
  chips.push_back({"B-0", "r02", 0});
  lab.apply(testing::make_update(chips, true, 2000), 2000);
  EXPECT_EQ(lab.find("A-1")->lifecycle, Lifecycle::quarantined);
  EXPECT_EQ(lab.find("B-0")->lifecycle, Lifecycle::rma);
}

TEST(StateSet, OneBitPerState) {
  StateSet set = StateSet::none();
  EXPECT_FALSE(set.contains(Lifecycle::suspect));
  set.set(Lifecycle::suspect, true);
  set.set(Lifecycle::quarantined, true);
  EXPECT_TRUE(set.contains(Lifecycle::suspect));
  EXPECT_FALSE(set.contains(Lifecycle::healthy));
  EXPECT_FALSE(set.is_all());
  set.set(Lifecycle::suspect, false);
  EXPECT_FALSE(set.contains(Lifecycle::suspect));
  EXPECT_TRUE(StateSet::all().is_all());
  for (const Lifecycle s : kLifecycleStates) EXPECT_TRUE(StateSet::all().contains(s));
  EXPECT_EQ(StateSet::from_bits(0xffffffffu), StateSet::all());
}

}  // namespace
}  // namespace kiln::gui
