// Integration: what kilnd answers to reading requests, against what
// `kiln --db FILE` reads from the same database (reports::answer_query):
// the same bytes for every text answer, the same values for the typed ones,
// joined from several parts when they are large.
#include <map>
#include <thread>
#include <tuple>

#include <gtest/gtest.h>

#include "net/reply_parts.hpp"
#include "reports/answer.hpp"
#include "schema/store.hpp"
#include "tests/integration/lab_fixture.hpp"

namespace kiln::testing {
namespace {

using namespace std::chrono_literals;
using Kind = kiln::v1::Query;

// 6 chips × 65 simulated s × 10 Hz × ~20 metrics: a typed telemetry answer
// over a MiB, so that it travels in parts.
const char* kPlan = R"(
plan: answers
seed: 3
sample_hz: 10
steps:
  - name: gemm
    pattern: gemm
    duration: 60s
    params: {dtype: bf16, verify: abft}
    limits:
      tflops: {min: 0.5, of: peak, marginal_min: 0.6}
      temperature_c: {max: 95, marginal_max: 90}
  - name: rest
    pattern: idle
    duration: 5s
)";

kiln::v1::Query query(Kind::Kind kind, std::uint64_t run_id = 0, const std::string& serial = "",
                      Kind::Answer answer = Kind::ANSWER_TEXT) {
  kiln::v1::Query q;
  q.set_kind(kind);
  q.set_run_id(run_id);
  q.set_serial(serial);
  q.set_answer(answer);
  return q;
}

using Points = std::map<std::tuple<std::string, std::uint32_t, std::string>, std::vector<std::pair<double, double>>>;

// The series flattened by key: parts may have split one series in several entries.
Points points_of(const kiln::v1::TelemetrySeries& telemetry) {
  Points out;
  for (const auto& s : telemetry.series()) {
    auto& points = out[{s.serial(), s.step_index(), s.metric()}];
    for (int i = 0; i < s.t_s_size(); ++i) points.emplace_back(s.t_s(i), s.values(i));
  }
  return out;
}

TEST(QueryAnswers, TheDaemonAndTheDatabaseFileGiveTheSameAnswers) {
  LabFixture lab;
  lab.start(one_rack_lab("Q-", 6, 21));
  lab.wait_for_racks(1);
  const std::uint64_t run = lab.submit(kPlan);
  lab.wait_for_run(run);
  auto client = lab.client();
  auto reader = store::Reader::open(lab.db_path().string());
  ASSERT_TRUE(reader) << reader.error().message;

  for (const auto& q : {query(Kind::RUNS), query(Kind::RUN, run), query(Kind::REPORT, run), query(Kind::CHIPS),
                        query(Kind::CHIP, 0, "Q-3"), query(Kind::TELEMETRY, run), query(Kind::TELEMETRY, run, "Q-1")}) {
    auto from_daemon = client->ask(q);
    auto from_file = reports::answer_query(**reader, q);
    ASSERT_TRUE(from_daemon) << Kind::Kind_Name(q.kind()) << ": " << from_daemon.error().message;
    ASSERT_TRUE(from_file) << from_file.error().message;
    EXPECT_EQ(from_daemon->body(), from_file->body()) << Kind::Kind_Name(q.kind()) << " differs";
    EXPECT_EQ(from_daemon->content_type(), from_file->content_type());
    EXPECT_FALSE(from_daemon->more());
  }

  const auto typed = query(Kind::TELEMETRY, run, "", Kind::ANSWER_TYPED);
  auto series = client->ask(typed);
  ASSERT_TRUE(series) << series.error().message;
  ASSERT_TRUE(series->has_telemetry());
  EXPECT_GT(series->ByteSizeLong(), net::kDefaultPartBytes) << "large enough to have come in parts";
  auto stored = reports::answer_query(**reader, typed);
  ASSERT_TRUE(stored);
  const Points got = points_of(series->telemetry());
  EXPECT_EQ(got.size(), points_of(stored->telemetry()).size());
  EXPECT_TRUE(got == points_of(stored->telemetry())) << "every point of every series, in order";

  auto progress = client->ask(query(Kind::RUN, run, "", Kind::ANSWER_TYPED));
  ASSERT_TRUE(progress);
  EXPECT_EQ(progress->run_progress().status(), kiln::v1::RUN_COMPLETED);
  EXPECT_EQ(progress->run_progress().plan(), "answers");
  EXPECT_FALSE(progress->run_progress().live()) << "a finished run has no live progress";

  auto unknown = client->ask(query(Kind::REPORT, 999));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().code, ErrorCode::not_found);
  auto no_typed_form = client->ask(query(Kind::RACKS, 0, "", Kind::ANSWER_TYPED));
  ASSERT_FALSE(no_typed_form);
  EXPECT_EQ(no_typed_form.error().code, ErrorCode::invalid_argument);
}

TEST(QueryAnswers, GetPlanAnswersTheStepsWithTypedLimitsAndRunShowsLiveProgress) {
  LabFixture lab;
  lab.start(one_rack_lab("P-", 2, 5));
  lab.wait_for_racks(1);
  const std::uint64_t run = lab.submit(kPlan);

  // While it runs, the typed RUN answer carries the run manager's progress.
  auto client = lab.client();
  bool seen_live = false;
  for (auto deadline = std::chrono::steady_clock::now() + 60s; std::chrono::steady_clock::now() < deadline;) {
    auto reply = client->ask(query(Kind::RUN, run, "", Kind::ANSWER_TYPED));
    ASSERT_TRUE(reply) << reply.error().message;
    const auto& p = reply->run_progress();
    if (p.live() && p.state() == kiln::v1::LIVE_RUN_RUNNING) {
      seen_live = true;
      EXPECT_EQ(p.phases(), 2u);
      EXPECT_DOUBLE_EQ(p.total_s(), 65);
      break;
    }
    if (p.status() == kiln::v1::RUN_COMPLETED) break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(seen_live) << "the run was never seen running";

  kiln::v1::Envelope get_plan;
  get_plan.mutable_get_plan()->set_run_id(run);
  auto reply = client->call(get_plan);
  ASSERT_TRUE(reply) << reply.error().message;
  ASSERT_TRUE(reply->query_reply().has_run_plan());
  const auto& plan = reply->query_reply().run_plan();
  EXPECT_EQ(plan.plan(), "answers");
  ASSERT_EQ(plan.steps_size(), 2);
  EXPECT_EQ(plan.steps(1).phase_index(), 1u);
  EXPECT_DOUBLE_EQ(plan.steps(0).duration_s(), 60);
  const kiln::v1::StepLimit* tflops = nullptr;
  for (const auto& l : plan.steps(0).limits()) tflops = l.metric() == "tflops" ? &l : tflops;
  ASSERT_NE(tflops, nullptr);
  EXPECT_EQ(tflops->of(), kiln::v1::LIMIT_OF_PEAK);
  EXPECT_EQ(tflops->peak_key(), "tflops.bf16");
  EXPECT_DOUBLE_EQ(tflops->marginal_min(), 0.6);

  kiln::v1::Envelope missing;
  missing.mutable_get_plan()->set_run_id(999);
  auto not_found = client->call(missing);
  ASSERT_TRUE(not_found);
  EXPECT_EQ(not_found->error_reply().code(), "not_found");
  lab.wait_for_run(run);
}

}  // namespace
}  // namespace kiln::testing
