#include "agents/outbox.hpp"

#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace kiln::agent {
namespace {

kiln::v1::Sample sample(double t) {
  kiln::v1::Sample s;
  s.set_serial("X-00");
  s.set_t_s(t);
  auto* v = s.add_values();
  v->set_name("temperature_c");
  v->set_value(40 + t);
  return s;
}

TEST(OutboxTest, NothingPendingGivesNoBatch) {
  Outbox outbox("r01", 1234);
  EXPECT_EQ(outbox.take_batch(), nullptr);
  EXPECT_TRUE(outbox.idle());
  EXPECT_EQ(outbox.acked_through(), 0u);
}

TEST(OutboxTest, BatchesAreNumberedFromOneWithRackAndEpoch) {
  Outbox outbox("r01", 1234);
  outbox.push_sample(sample(1));
  auto first = outbox.take_batch();
  outbox.push_sample(sample(2));
  kiln::v1::ChipStepResult result;
  result.set_serial("X-00");
  outbox.push_result(result);
  auto second = outbox.take_batch();
  ASSERT_NE(first, nullptr);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(first->seq(), 1u);
  EXPECT_EQ(second->seq(), 2u);
  EXPECT_EQ(first->rack(), "r01");
  EXPECT_EQ(first->epoch(), 1234u);
  EXPECT_EQ(first->samples_size(), 1);
  EXPECT_EQ(second->samples_size(), 1);
  EXPECT_EQ(second->results_size(), 1);
  EXPECT_EQ(outbox.take_batch(), nullptr);
}

TEST(OutboxTest, TakeBatchHonoursItemAndByteCaps) {
  Outbox outbox("r01", 1);
  for (int i = 0; i < 10; ++i) outbox.push_sample(sample(i));
  auto a = outbox.take_batch(4);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->samples_size(), 4);
  EXPECT_DOUBLE_EQ(a->samples(0).t_s(), 0);
  // One item always goes, even when it alone is over the byte cap.
  auto b = outbox.take_batch(100, 1);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->samples_size(), 1);
  EXPECT_DOUBLE_EQ(b->samples(0).t_s(), 4);
  EXPECT_EQ(outbox.pending_items(), 5u);
}

TEST(OutboxTest, AckRemovesOnlyThatBatch) {
  Outbox outbox("r01", 77);
  for (int i = 0; i < 3; ++i) {
    outbox.push_sample(sample(i));
    ASSERT_NE(outbox.take_batch(), nullptr);
  }
  EXPECT_EQ(outbox.unacked_count(), 3u);
  EXPECT_TRUE(outbox.ack(77, 2));
  EXPECT_FALSE(outbox.ack(77, 2)) << "second ack of the same batch";
  EXPECT_FALSE(outbox.ack(78, 1)) << "ack for another epoch";
  EXPECT_FALSE(outbox.ack(77, 9)) << "ack for a batch never sent";
  auto left = outbox.unacked();
  ASSERT_EQ(left.size(), 2u);
  EXPECT_EQ(left[0]->seq(), 1u);
  EXPECT_EQ(left[1]->seq(), 3u);
  EXPECT_EQ(outbox.acked_through(), 0u);
  EXPECT_TRUE(outbox.ack(77, 1));
  EXPECT_EQ(outbox.acked_through(), 2u);
  EXPECT_TRUE(outbox.ack(77, 3));
  EXPECT_EQ(outbox.acked_through(), 3u);
  EXPECT_TRUE(outbox.idle());
  EXPECT_EQ(outbox.bytes_held(), 0u);
}

TEST(OutboxTest, UnackedKeepsSequenceOrderForResend) {
  Outbox outbox("r01", 5);
  for (int i = 0; i < 5; ++i) {
    outbox.push_sample(sample(i));
    ASSERT_NE(outbox.take_batch(), nullptr);
  }
  ASSERT_TRUE(outbox.ack(5, 3));
  std::vector<std::uint64_t> seqs;
  for (const auto& b : outbox.unacked()) seqs.push_back(b->seq());
  EXPECT_EQ(seqs, (std::vector<std::uint64_t>{1, 2, 4, 5}));
  // Resending does not renumber: the next new batch continues the sequence.
  outbox.push_sample(sample(9));
  EXPECT_EQ(outbox.take_batch()->seq(), 6u);
}

TEST(OutboxTest, ConcurrentPushersLoseNothing) {
  Outbox outbox("r01", 1);
  constexpr int kThreads = 4, kEach = 500;
  std::vector<std::jthread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&outbox] {
      for (int i = 0; i < kEach; ++i) outbox.push_sample(sample(i));
    });
  }
  int taken = 0;
  for (;;) {
    if (auto b = outbox.take_batch(37)) {
      taken += b->samples_size();
      EXPECT_TRUE(outbox.ack(1, b->seq()));
    } else if (taken == kThreads * kEach) {
      break;
    } else {
      std::this_thread::yield();
    }
  }
  EXPECT_EQ(taken, kThreads * kEach);
  EXPECT_TRUE(outbox.idle());
}

}  // namespace
}  // namespace kiln::agent
