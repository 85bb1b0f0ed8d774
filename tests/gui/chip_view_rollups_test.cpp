// The chip view over roll-ups (issue 12), offscreen, with the daemon's
// answers given by a fake: whole-run charts ask ROLLUPS (not the raw
// values), a zoom that fits asks TELEMETRY for the visible window only, a
// pruned run stays on roll-ups and says so, and a daemon older than
// roll-ups still gets the raw values asked for.

#include <cmath>

#include <gtest/gtest.h>

#include "gui/dashboard.hpp"
#include "gui/widgets/chip_view.hpp"
#include "gui/widgets/metric_chart.hpp"

namespace kiln::gui {
namespace {

kiln::v1::LiveUpdate chip_in_run_7(std::int64_t now) {
  kiln::v1::LiveUpdate u;
  u.set_sent_unix_ms(now);
  auto* rack = u.add_racks();
  rack->set_rack("r01");
  rack->set_connected(true);
  auto* live = u.add_chips();
  live->set_serial("TRN-0001");
  live->set_rack("r01");
  live->set_slot(1);
  live->set_sku("trn2-sim");
  live->set_run_id(7);
  live->set_step("gemm");
  live->set_verdict(kiln::v1::LIVE_VERDICT_PASS);
  return u;
}

// What the fake daemon answers, and what it was asked.
struct FakeDaemon {
  bool has_rollups = true;  // false: an older daemon ("unknown query")
  std::int64_t pruned_unix_ms = 0;
  std::vector<kiln::v1::Query> asked;

  static kiln::v1::RunPlan plan() {
    kiln::v1::RunPlan p;
    p.set_run_id(7);
    auto* s = p.add_steps();
    s->set_name("gemm");
    s->set_duration_s(3600);
    return p;
  }

  Result<kiln::v1::QueryReply> answer(const kiln::v1::Envelope& e) {
    kiln::v1::QueryReply reply;
    if (e.has_get_plan()) {
      *reply.mutable_run_plan() = plan();
      return reply;
    }
    const kiln::v1::Query& q = e.query();
    asked.push_back(q);
    if (q.kind() == kiln::v1::Query::ROLLUPS) {
      if (!has_rollups) return make_error(ErrorCode::unavailable, "invalid_argument: unknown query");
      auto* r = reply.mutable_rollups();
      r->set_run_id(7);
      r->set_raw_pruned_unix_ms(pruned_unix_ms);
      auto* s = r->add_series();
      s->set_serial("TRN-0001");
      s->set_metric("temperature_c");
      for (int k = 0; k < 42; ++k) {  // 86-s chunks at 10 Hz
        s->add_t_from_s(k * 86.0);
        s->add_t_to_s(k * 86.0 + 85.9);
        s->add_count(860);
        s->add_min(60 + k % 5);
        s->add_avg(65 + k % 5);
        s->add_max(70 + k % 5);
      }
      return reply;
    }
    // TELEMETRY: 10 Hz inside the windows asked for (or the whole step).
    double from = 0, to = 3600;
    if (q.windows_size() > 0) {
      from = q.windows(0).from_t_s();
      to = q.windows(0).to_t_s();
    }
    auto* s = reply.mutable_telemetry()->add_series();
    s->set_serial("TRN-0001");
    s->set_metric("temperature_c");
    for (double t = from; t <= to; t += 0.1) {
      s->add_t_s(t);
      s->add_values(65 + std::fmod(t, 3.0));
    }
    return reply;
  }
};

struct Fixture {
  Dashboard dashboard;
  FakeDaemon daemon;
  ChipView view{dashboard};

  Fixture() {
    dashboard.staging().push_update(chip_in_run_7(Dashboard::local_now_ms()));
    dashboard.refresh();
    view.set_ask([this](kiln::v1::Envelope e, std::function<void(const Result<kiln::v1::QueryReply>&)> done) {
      done(daemon.answer(e));
    });
    view.resize(1200, 900);
  }
  MetricChart* temperature() const { return view.charts().front(); }
};

TEST(ChipViewRollups, WholeRunDrawsRollupsAndAZoomThatFitsFetchesOnlyItsWindow) {
  Fixture f;
  f.view.open("TRN-0001");
  ASSERT_TRUE(f.view.loaded());
  ASSERT_EQ(f.daemon.asked.size(), 1u);
  EXPECT_EQ(f.daemon.asked[0].kind(), kiln::v1::Query::ROLLUPS);
  ASSERT_NE(f.view.rollups(), nullptr);
  EXPECT_EQ(f.temperature()->band_points(), 84u);  // 42 roll-ups, each span's two ends
  EXPECT_TRUE(f.view.status_text().contains("roll-ups")) << f.view.status_text().toStdString();

  // An hour is 36,000 values: still roll-ups, nothing asked.
  f.view.zoom_to(0, 3600 - 1);
  EXPECT_EQ(f.daemon.asked.size(), 1u);
  EXPECT_TRUE(f.view.status_text().contains("more than 6000")) << f.view.status_text().toStdString();

  // Five minutes: 3,000 values, the raw values of that window only.
  f.view.zoom_to(1000, 1300);
  ASSERT_EQ(f.daemon.asked.size(), 2u);
  const kiln::v1::Query& raw = f.daemon.asked[1];
  EXPECT_EQ(raw.kind(), kiln::v1::Query::TELEMETRY);
  ASSERT_EQ(raw.windows_size(), 1);
  EXPECT_DOUBLE_EQ(raw.windows(0).from_t_s(), 1000);
  EXPECT_DOUBLE_EQ(raw.windows(0).to_t_s(), 1300);
  ASSERT_TRUE(f.view.raw_span().has_value());
  EXPECT_EQ(f.temperature()->band_points(), 0u);
  EXPECT_GT(f.temperature()->points_shown(), 1000u);
  EXPECT_TRUE(f.view.status_text().contains("raw values")) << f.view.status_text().toStdString();

  // Zooming further inside the fetched window asks nothing more.
  f.view.zoom_to(1100, 1200);
  EXPECT_EQ(f.daemon.asked.size(), 2u);
}

TEST(ChipViewRollups, PrunedRunShowsRollupsOnlyAndSaysSo) {
  Fixture f;
  f.daemon.pruned_unix_ms = 1'800'000'000'000;
  f.view.open("TRN-0001");
  EXPECT_TRUE(f.view.status_text().contains("raw telemetry pruned")) << f.view.status_text().toStdString();
  f.view.zoom_to(1000, 1060);
  EXPECT_EQ(f.daemon.asked.size(), 1u) << "the raw values are gone: nothing to ask for";
  EXPECT_GT(f.temperature()->band_points(), 0u);
  EXPECT_TRUE(f.view.status_text().contains("No raw values")) << f.view.status_text().toStdString();
}

TEST(ChipViewRollups, OlderDaemonWithoutRollupsFallsBackToTheRawValues) {
  Fixture f;
  f.daemon.has_rollups = false;
  f.view.open("TRN-0001");
  ASSERT_EQ(f.daemon.asked.size(), 2u);
  EXPECT_EQ(f.daemon.asked[1].kind(), kiln::v1::Query::TELEMETRY);
  EXPECT_EQ(f.daemon.asked[1].windows_size(), 0) << "the whole run, as before roll-ups";
  EXPECT_EQ(f.view.rollups(), nullptr);
  EXPECT_EQ(f.temperature()->band_points(), 0u);
  EXPECT_GT(f.temperature()->points_shown(), 0u);
  EXPECT_LE(f.temperature()->points_shown(), MetricChart::kMaxPointsShown);
  EXPECT_TRUE(f.view.status_text().contains("No roll-ups from this daemon")) << f.view.status_text().toStdString();
}

}  // namespace
}  // namespace kiln::gui
