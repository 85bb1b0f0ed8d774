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

namespace kiln::gui {
namespace {

TEST(AlarmLog, AnAcknowledgementByAnotherDashboardArrivesAsAnUpdateWithWhoAndWhen) {
  AlarmLog log;
  auto raised = alarm(7, 1000);
  raised.set_updated_unix_ms(1000);
  ASSERT_TRUE(log.add(raised));
  EXPECT_EQ(log.unacknowledged(), 1u);
  auto acked = raised;
  acked.set_acknowledged_by("alice");
  acked.set_acknowledged_unix_ms(2000);
  EXPECT_TRUE(log.add(acked)) << "same version, but someone acknowledged it: news";
  EXPECT_EQ(log.unacknowledged(), 0u);
  EXPECT_EQ(log.entries()[0].acknowledged_by(), "alice");
  EXPECT_FALSE(log.entries()[0].acknowledged_here);
  EXPECT_FALSE(log.add(acked)) << "a snapshot resends it as it is";
  EXPECT_FALSE(log.acknowledge(7)) << "already acknowledged, by alice";
  // A dashboard connecting later gets it acknowledged in its first snapshot.
  AlarmLog later;
  ASSERT_TRUE(later.add(acked));
  EXPECT_EQ(later.unacknowledged(), 0u);
}

TEST(AlarmLog, AnAcknowledgementRequestNamesEachAlarmByIdAndRaiseTime) {
  AlarmLog log;
  ASSERT_TRUE(log.add(alarm(3, 300)));
  ASSERT_TRUE(log.add(alarm(4, 400)));
  EXPECT_TRUE(log.acknowledge(4));
  EXPECT_TRUE(log.entries()[0].acknowledged_here);
  const kiln::v1::AckAlarm request = log.ack_request({4, 99});
  ASSERT_EQ(request.alarms_size(), 1) << "an alarm not listed is not asked for";
  EXPECT_EQ(request.alarms(0).id(), 4u);
  EXPECT_EQ(request.alarms(0).raised_unix_ms(), 400);
  EXPECT_FALSE(request.all());
}

TEST(AlarmLog, RaisedAgainAfterItWasWithdrawnItNeedsALookAgain) {
  AlarmLog log;
  auto a = alarm(5, 500);
  a.set_updated_unix_ms(500);
  a.set_acknowledged_by("bob");
  a.set_acknowledged_unix_ms(600);
  ASSERT_TRUE(log.add(a));
  auto cleared = a;
  cleared.set_cleared(true);
  cleared.set_updated_unix_ms(700);
  ASSERT_TRUE(log.add(cleared));
  auto again = cleared;  // the daemon drops the acknowledgement when it raises it again
  again.set_cleared(false);
  again.clear_acknowledged_by();
  again.set_acknowledged_unix_ms(0);
  again.set_updated_unix_ms(800);
  ASSERT_TRUE(log.add(again));
  EXPECT_EQ(log.unacknowledged(), 1u);
}

}  // namespace
}  // namespace kiln::gui
