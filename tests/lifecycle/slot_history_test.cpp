#include "lifecycle/slot_history.hpp"

#include <gtest/gtest.h>

namespace kiln::lifecycle {
namespace {

TEST(SlotHistory, AChipThatPassesElsewhereWhileItsOldSlotFailsAnotherPointsAtTheSlot) {
  const std::vector<SlotRun> history = {
      {1, "TRN-0205", "r01", 5, true},  {2, "TRN-0205", "r01", 5, true}, {3, "TRN-0205", "r02", 1, false},
      {4, "TRN-0205", "r02", 1, false}, {4, "TRN-0301", "r01", 5, true},
  };
  const auto finding = points_at_slot(history, "TRN-0205");
  ASSERT_TRUE(finding);
  EXPECT_EQ(finding->rack, "r01");
  EXPECT_EQ(finding->slot, 5u);
  EXPECT_EQ(finding->reason, "TRN-0205 failed 2 run(s) in r01/5 and passed 2 in r02/1; r01/5 also failed TRN-0301");
}

TEST(SlotHistory, AChipThatFailsWhereverItGoesIsTheChip) {
  const std::vector<SlotRun> history = {
      {1, "TRN-0205", "r01", 5, true}, {2, "TRN-0205", "r02", 1, true}, {3, "TRN-0301", "r01", 5, false}};
  EXPECT_FALSE(points_at_slot(history, "TRN-0205"));
}

TEST(SlotHistory, NoOtherChipFailedThereSoNothingToSay) {
  const std::vector<SlotRun> history = {
      {1, "TRN-0205", "r01", 5, true}, {2, "TRN-0205", "r02", 1, false}, {3, "TRN-0301", "r01", 5, false}};
  EXPECT_FALSE(points_at_slot(history, "TRN-0205"));
}

}  // namespace
}  // namespace kiln::lifecycle
