#include "agents/vote_board.hpp"

#include <gtest/gtest.h>

#include <stop_token>
#include <thread>
#include <vector>

#include "tests/agents/tile_maker.hpp"

namespace kiln::agent {
namespace {

using testing::make_tile;

// Issue 10: in nightly-burnin.yaml's vote step a hung chip returns no tile
// and leaves the board; the next count dereferenced its empty place and the
// whole agent died with SIGSEGV. The members still voting must be judged,
// the one that left must not be.
TEST(VoteBoard, AMemberThatLeftIsNotCountedAndTheOthersAreJudged) {
  VoteBoard board({"A", "B", "C", "HUNG"}, {"trn2-sim", "trn2-sim", "trn2-sim", "trn2-sim"});
  board.leave(0, 3);  // "the chip returned no tile to compare"

  const device::GemmTile good = make_tile({}, device::DType::bf16, device::DataKind::random, 5);
  device::GemmTile odd = good;
  odd.c[7] = -odd.c[7] - 1.0f;
  std::vector<Result<VoteOutcome>> outcomes(3, make_error(ErrorCode::internal, "not voted"));
  {
    std::stop_source stop;
    std::vector<std::jthread> voters;
    for (int m = 0; m < 3; ++m) {
      voters.emplace_back([&, m] { outcomes[m] = board.vote(0, m, m == 2 ? odd : good, stop.get_token()); });
    }
  }
  for (int m = 0; m < 3; ++m) ASSERT_TRUE(outcomes[m]) << m << ": " << outcomes[m].error().message;
  EXPECT_TRUE(outcomes[0]->decided);
  EXPECT_TRUE(outcomes[0]->with_majority);
  EXPECT_TRUE(outcomes[1]->with_majority);
  EXPECT_TRUE(outcomes[2]->decided);
  EXPECT_FALSE(outcomes[2]->with_majority);
  EXPECT_EQ(outcomes[2]->differing, 1u);
}

TEST(VoteBoard, FewerThanThreeVotersLeftIsUndecided) {
  VoteBoard board({"A", "B", "HUNG"}, {"trn2-sim", "trn2-sim", "trn2-sim"});
  board.leave(0, 2);
  const device::GemmTile tile = make_tile({}, device::DType::bf16, device::DataKind::random, 5);
  std::vector<Result<VoteOutcome>> outcomes(2, make_error(ErrorCode::internal, "not voted"));
  {
    std::stop_source stop;
    std::vector<std::jthread> voters;
    for (int m = 0; m < 2; ++m) voters.emplace_back([&, m] { outcomes[m] = board.vote(0, m, tile, stop.get_token()); });
  }
  for (int m = 0; m < 2; ++m) {
    ASSERT_TRUE(outcomes[m]);
    EXPECT_FALSE(outcomes[m]->decided);
    EXPECT_NE(outcomes[m]->undecided_reason.find("fewer than 3"), std::string::npos) << outcomes[m]->undecided_reason;
  }
}

}  // namespace
}  // namespace kiln::agent
