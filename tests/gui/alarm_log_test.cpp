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

}  // namespace
}  // namespace kiln::gui
