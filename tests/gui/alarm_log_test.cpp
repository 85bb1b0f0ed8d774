#include "gui/model/alarm_log.hpp"

#include <gtest/gtest.h>

namespace kiln::gui {
namespace {

kiln::v1::Alarm alarm(std::uint64_t id, std::int64_t at) {
  kiln::v1::Alarm a;
  a.set_id(id);
  a.set_unix_ms(at);
  a.set_kind(kiln::v1::ALARM_FAILURE);
  return a;
}

TEST(AlarmLog, NewestFirstWithoutDuplicatesFromSnapshots) {
  AlarmLog log;
  EXPECT_TRUE(log.add(alarm(1, 100)));
  EXPECT_TRUE(log.add(alarm(2, 200)));
  EXPECT_FALSE(log.add(alarm(1, 100))) << "a reconnect's snapshot resends old alarms";
  EXPECT_TRUE(log.add(alarm(1, 300))) << "a restarted daemon reuses ids";
  ASSERT_EQ(log.entries().size(), 3u);
  EXPECT_EQ(log.entries()[0].alarm.unix_ms(), 300);
  EXPECT_EQ(log.unacknowledged(), 3u);
  EXPECT_TRUE(log.acknowledge(2));
  EXPECT_FALSE(log.acknowledge(2));
  EXPECT_EQ(log.unacknowledged(), 2u);
  EXPECT_EQ(log.acknowledge_all(), 2u);
  EXPECT_EQ(log.unacknowledged(), 0u);
}

TEST(AlarmLog, AnUpdateInTheSameMillisecondStillReplacesTheText) {
  AlarmLog log;
  auto raised = alarm(4, 500);
  raised.set_updated_unix_ms(500);
  raised.set_message("over a limit so far");
  EXPECT_TRUE(log.add(raised));
  auto updated = raised;
  updated.set_message("failed: tflops avg 412 < min 600");
  EXPECT_TRUE(log.add(updated)) << "the daemon updated it within the millisecond it raised it";
  ASSERT_EQ(log.entries().size(), 1u);
  EXPECT_EQ(log.entries()[0].alarm.message(), "failed: tflops avg 412 < min 600");
  EXPECT_FALSE(log.add(updated)) << "resent unchanged by a snapshot";
  auto older = raised;
  older.set_updated_unix_ms(400);
  older.set_message("stale");
  EXPECT_FALSE(log.add(older));
  EXPECT_EQ(log.entries()[0].alarm.message(), "failed: tflops avg 412 < min 600");
}

}  // namespace
}  // namespace kiln::gui
