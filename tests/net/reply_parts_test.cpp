#include "net/reply_parts.hpp"

#include <gtest/gtest.h>

namespace kiln::net {
namespace {

kiln::v1::Envelope as_envelope(std::uint64_t id, kiln::v1::QueryReply part) {
  kiln::v1::Envelope e;
  e.set_request_id(id);
  *e.mutable_query_reply() = std::move(part);
  return e;
}

// Joins `parts` as a client does; the whole reply, or a test failure.
kiln::v1::QueryReply join(const std::vector<kiln::v1::QueryReply>& parts) {
  ReplyJoiner joiner;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    auto got = joiner.add(as_envelope(7, parts[i]));
    EXPECT_TRUE(got);
    if (!got) break;
    if (i + 1 < parts.size()) {
      EXPECT_FALSE(*got) << "part " << i << " is not the end";
    } else if (*got) {
      EXPECT_EQ(joiner.bytes(), 0u);
      return (*got)->query_reply();
    }
  }
  ADD_FAILURE() << "the parts did not end";
  return {};
}

TEST(ReplyParts, ASmallReplyGoesWhole) {
  kiln::v1::QueryReply reply;
  reply.set_body("{}");
  reply.set_content_type("application/json");
  const auto parts = split_reply(reply);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_FALSE(parts[0].more());
  EXPECT_EQ(parts[0].body(), "{}");
}

TEST(ReplyParts, ALargeBodyIsCutAndJoinedBackByteForByte) {
  std::string body;
  for (int i = 0; i < 100000; ++i) body += std::to_string(i) + ",";
  kiln::v1::QueryReply reply;
  reply.set_body(body);
  reply.set_content_type("text/csv");
  const auto parts = split_reply(reply, 64 * 1024);
  ASSERT_GT(parts.size(), 5u);
  for (std::size_t i = 0; i < parts.size(); ++i) {
    EXPECT_EQ(parts[i].more(), i + 1 < parts.size());
    EXPECT_LE(parts[i].body().size(), 64u * 1024);
  }
  const auto joined = join(parts);
  EXPECT_EQ(joined.body(), body);
  EXPECT_EQ(joined.content_type(), "text/csv");
  EXPECT_FALSE(joined.more());
}

TEST(ReplyParts, TypedTelemetryIsCutBetweenSeriesAndPointsAndMergedBack) {
  kiln::v1::QueryReply reply;
  auto* telemetry = reply.mutable_telemetry();
  telemetry->set_run_id(3);
  std::size_t points = 0;
  for (int s = 0; s < 6; ++s) {
    auto* series = telemetry->add_series();
    series->set_serial("C-" + std::to_string(s));
    series->set_step_index(static_cast<std::uint32_t>(s % 2));
    series->set_metric("temperature_c");
    const int n = s == 4 ? 20000 : 300;  // one series longer than a part
    for (int i = 0; i < n; ++i) {
      series->add_t_s(0.1 * i);
      series->add_values(40 + s + 0.001 * i);
    }
    points += static_cast<std::size_t>(n);
  }
  const auto parts = split_reply(reply, 32 * 1024);
  ASSERT_GT(parts.size(), 3u);
  for (const auto& part : parts) {
    EXPECT_LE(part.ByteSizeLong(), 33u * 1024) << "a part stays near its budget";
    EXPECT_EQ(part.telemetry().run_id(), 3u);
  }
  const auto joined = join(parts);
  ASSERT_TRUE(joined.has_telemetry());
  std::size_t joined_points = 0;
  std::vector<double> long_series;
  for (const auto& s : joined.telemetry().series()) {
    EXPECT_EQ(s.t_s_size(), s.values_size());
    joined_points += static_cast<std::size_t>(s.t_s_size());
    if (s.serial() == "C-4") long_series.insert(long_series.end(), s.values().begin(), s.values().end());
  }
  EXPECT_EQ(joined_points, points) << "every point, once";
  ASSERT_EQ(long_series.size(), 20000u);
  for (std::size_t i = 0; i < long_series.size(); ++i) ASSERT_DOUBLE_EQ(long_series[i], 44 + 0.001 * i) << i;
}

TEST(ReplyJoiner, AnErrorReplyEndsARequestAndDropsItsParts) {
  ReplyJoiner joiner;
  kiln::v1::QueryReply part;
  part.set_body("abc");
  part.set_more(true);
  auto first = joiner.add(as_envelope(1, part));
  ASSERT_TRUE(first);
  EXPECT_FALSE(*first);
  EXPECT_GT(joiner.bytes(), 0u);
  kiln::v1::Envelope error;
  error.set_request_id(1);
  error.mutable_error_reply()->set_code("internal");
  auto end = joiner.add(error);
  ASSERT_TRUE(end);
  ASSERT_TRUE(*end);
  EXPECT_TRUE((*end)->has_error_reply());
  EXPECT_EQ(joiner.bytes(), 0u);
}

TEST(ReplyJoiner, RepliesOfRequestsInterleaveAndAReplyTooLargeFails) {
  ReplyJoiner joiner(100);
  kiln::v1::QueryReply a;
  a.set_body("a1");
  a.set_more(true);
  kiln::v1::QueryReply b = a;
  b.set_body("b1");
  ASSERT_FALSE(*joiner.add(as_envelope(1, a)));
  ASSERT_FALSE(*joiner.add(as_envelope(2, b)));
  a.set_body("a2");
  a.set_more(false);
  auto whole_a = joiner.add(as_envelope(1, a));
  ASSERT_TRUE(whole_a && *whole_a);
  EXPECT_EQ((*whole_a)->query_reply().body(), "a1a2");
  b.set_body(std::string(200, 'x'));
  auto too_large = joiner.add(as_envelope(2, b));
  ASSERT_FALSE(too_large);
  EXPECT_EQ(too_large.error().code, ErrorCode::unavailable);
  EXPECT_EQ(joiner.bytes(), 0u);
}

}  // namespace
}  // namespace kiln::net
