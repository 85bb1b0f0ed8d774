#include "net/outgoing_queue.hpp"

#include <gtest/gtest.h>

#include "schema/frame.hpp"

namespace kiln::net {
namespace {

constexpr std::size_t kLargest = wire::kFrameHeaderBytes + wire::kMaxFrameBytes;

TEST(OutgoingQueue, RefusesWhatDoesNotFitAndQueuesNothingThen) {
  OutgoingQueue queue(kLargest + 10);
  ASSERT_TRUE(queue.push(std::string(kLargest, 'a')));
  EXPECT_EQ(queue.room(), 10u);
  EXPECT_FALSE(queue.push(std::string(11, 'b'))) << "policy: a frame that does not fit is refused";
  EXPECT_EQ(queue.size(), 1u);
  EXPECT_EQ(queue.bytes(), kLargest) << "nothing of the refused frame is queued";
  EXPECT_TRUE(queue.push(std::string(10, 'c')));
  EXPECT_EQ(queue.room(), 0u);
  queue.pop();
  EXPECT_EQ(queue.front(), std::string(10, 'c'));
  EXPECT_EQ(queue.bytes(), 10u);
  queue.clear();
  EXPECT_TRUE(queue.empty());
  EXPECT_EQ(queue.room(), kLargest + 10);
}

TEST(OutgoingQueue, AnEmptyQueueAlwaysTakesTheLargestFrame) {
  OutgoingQueue tiny(16);
  EXPECT_EQ(tiny.max_bytes(), kLargest);
  EXPECT_TRUE(tiny.push(std::string(kLargest, 'x')));
  EXPECT_FALSE(tiny.push("y"));
}

}  // namespace
}  // namespace kiln::net
