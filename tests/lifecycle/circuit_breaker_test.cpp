#include "lifecycle/circuit_breaker.hpp"

#include <gtest/gtest.h>

namespace kiln::lifecycle {
namespace {

TEST(CircuitBreaker, HoldsWhenOneRunWouldQuarantineTooMuchOfASku) {
  const auto policy = LifecyclePolicy::defaults();  // 25%, at least 3 chips
  const auto v =
      check_circuit_breaker(14, {{"trn2-sim", 12}, {"h100-sim", 1}}, {{"trn2-sim", 16}, {"h100-sim", 8}}, policy);
  EXPECT_TRUE(v.tripped);
  EXPECT_EQ(v.held_skus, std::vector<std::string>{"trn2-sim"});
  EXPECT_EQ(v.reason,
            "run 14 would quarantine 12 of 16 trn2-sim chips (75% > 25%): quarantines held, a broken plan "
            "or lab rather than a bad batch");
}

TEST(CircuitBreaker, ABadChipOrTwoIsABadChipOrTwo) {
  const auto policy = LifecyclePolicy::defaults();
  EXPECT_FALSE(check_circuit_breaker(3, {{"trn2-sim", 2}}, {{"trn2-sim", 4}}, policy).tripped)
      << "50% of a small SKU, but under the minimum count";
  EXPECT_FALSE(check_circuit_breaker(3, {{"trn2-sim", 4}}, {{"trn2-sim", 16}}, policy).tripped) << "exactly 25%";
  EXPECT_TRUE(check_circuit_breaker(3, {{"trn2-sim", 5}}, {{"trn2-sim", 16}}, policy).tripped);
}

}  // namespace
}  // namespace kiln::lifecycle
