#include "net/backoff.hpp"

#include <gtest/gtest.h>

namespace kiln::net {
namespace {

using std::chrono::milliseconds;

TEST(Backoff, DoublesUpToTheCapAndStartsOverAfterASuccess) {
  Backoff backoff(BackoffPolicy{milliseconds(250), milliseconds(5000)});
  const milliseconds expected[] = {milliseconds(250),  milliseconds(500),  milliseconds(1000), milliseconds(2000),
                                   milliseconds(4000), milliseconds(5000), milliseconds(5000)};
  for (const auto delay : expected) EXPECT_EQ(backoff.next(), delay);
  EXPECT_EQ(backoff.failures(), 7);
  for (int i = 0; i < 1000; ++i) (void)backoff.next();
  EXPECT_EQ(backoff.next(), milliseconds(5000)) << "no overflow however long the daemon stays away";
  backoff.reset();
  EXPECT_EQ(backoff.failures(), 0);
  EXPECT_EQ(backoff.next(), milliseconds(250));
}

TEST(Backoff, ACapBelowTheFirstDelayIsTheFirstDelay) {
  Backoff backoff(BackoffPolicy{milliseconds(300), milliseconds(100)});
  EXPECT_EQ(backoff.next(), milliseconds(300));
  EXPECT_EQ(backoff.next(), milliseconds(300));
}

}  // namespace
}  // namespace kiln::net
