#include "daemon/audit_log.hpp"

#include <gtest/gtest.h>

namespace kiln::daemon {
namespace {

AuditEvent refused(const std::string& peer, const std::string& reason) {
  return AuditEvent{"refused", "", peer, 0, R"({"reason":")" + reason + R"("})"};
}

TEST(AuditWindow, RepeatsFromOneHostAreOneRowWithACountWhateverThePort) {
  AuditWindow window(256);
  for (int port = 1000; port < 3000; ++port)
    window.add(refused("10.0.0.7:" + std::to_string(port), "unknown credential"), 5);
  window.add(refused("10.0.0.8:1", "unknown credential"), 6);
  window.add(refused("10.0.0.7:1", "no Hello in time"), 7);
  const auto rows = window.take(8);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].peer, "10.0.0.7");
  EXPECT_EQ(rows[0].count, 2000u);
  EXPECT_EQ(rows[0].unix_ms, 5);  // the first occurrence
  EXPECT_EQ(rows[1].peer, "10.0.0.8");
  EXPECT_EQ(rows[2].count, 1u);
  EXPECT_TRUE(window.empty());
  EXPECT_TRUE(window.take(9).empty());
}

TEST(AuditWindow, PastItsCapDistinctEventsAreCountedInOneOverflowRow) {
  AuditWindow window(4);
  for (int i = 0; i < 10; ++i) window.add(refused("[::1]:" + std::to_string(i), "reason " + std::to_string(i)), 1);
  const auto rows = window.take(2);
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0].peer, "::1");
  EXPECT_EQ(rows[4].kind, "audit_overflow");
  EXPECT_EQ(rows[4].count, 6u);
}

TEST(AuditWindow, WhoDidItAndTheRunKeepEventsApart) {
  AuditWindow window(256);
  window.add(AuditEvent{"run_aborted", "alice", "127.0.0.1:5", 3, "{}"}, 1);
  window.add(AuditEvent{"run_aborted", "bob", "127.0.0.1:6", 3, "{}"}, 1);
  window.add(AuditEvent{"run_aborted", "alice", "127.0.0.1:7", 4, "{}"}, 1);
  window.add(AuditEvent{"run_aborted", "alice", "127.0.0.1:8", 3, ""}, 1);
  const auto rows = window.take(2);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].count, 2u);
  EXPECT_EQ(rows[0].detail_json, "{}");
}

}  // namespace
}  // namespace kiln::daemon
