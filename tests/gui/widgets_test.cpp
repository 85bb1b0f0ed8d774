// The dashboard's widgets, offscreen, fed by a synthetic live feed through
// the same staging the network thread writes to.

#include <QGraphicsTextItem>
#include <QImage>
#include <QMouseEvent>
#include <QSignalSpy>
#include <QtCharts/QLegend>

#include <gtest/gtest.h>

#include <algorithm>

#include "gui/dashboard.hpp"
#include "gui/widgets/alarms_view.hpp"
#include "gui/widgets/lab_view.hpp"
#include "gui/widgets/main_window.hpp"
#include "gui/widgets/metric_chart.hpp"
#include "gui/widgets/tile_style.hpp"
#include "tests/gui/gui_test_support.hpp"

namespace kiln::gui {
namespace {

using testing::FakeChip;
using testing::make_update;

std::vector<FakeChip> lab_of_four(std::int64_t now) {
  std::vector<FakeChip> chips{
      {"A-0", "r01", 0, "pass"}, {"A-1", "r01", 1, "fail"}, {"B-0", "r02", 0, "running"}, {"B-1", "r02", 1, "running"}};
  for (auto& c : chips) c.wall_ms = now;
  chips[3].wall_ms = now - 120'000;  // two minutes without a sample
  chips[2].temperature_c = 101;
  return chips;
}

kiln::v1::LiveUpdate with_racks(kiln::v1::LiveUpdate u) {
  for (const char* name : {"r01", "r02"}) {
    auto* r = u.add_racks();
    r->set_rack(name);
    r->set_connected(true);
  }
  return u;
}

QColor pixel_at_centre(QWidget& w, const QRect& r) {
  const QImage image = w.grab().toImage();
  const qreal dpr = image.devicePixelRatio();
  return image.pixelColor(QPointF(r.center()).toPoint() * dpr);
}

TEST(LabView, ColoursTilesByVerdictAndGreysStaleOnes) {
  Dashboard dashboard;
  const auto now = Dashboard::local_now_ms();
  dashboard.staging().push_update(with_racks(make_update(lab_of_four(now), true, now)));
  dashboard.refresh();
  LabView view(dashboard);
  view.resize(800, 500);
  view.show();
  ASSERT_FALSE(view.tile_rect("A-1").isNull());
  EXPECT_EQ(pixel_at_centre(view, view.tile_rect("A-0").adjusted(0, 0, 0, -20)), verdict_colour("pass"));
  EXPECT_EQ(pixel_at_centre(view, view.tile_rect("A-1").adjusted(0, 0, 0, -20)), verdict_colour("fail"));
  EXPECT_EQ(pixel_at_centre(view, view.tile_rect("B-0").adjusted(0, 0, 0, -20)), verdict_colour("running"));
  const QColor stale = pixel_at_centre(view, view.tile_rect("B-1").adjusted(0, 0, 0, -20));
  EXPECT_NE(stale, verdict_colour("running"));
  EXPECT_LT(stale.hsvSaturationF(), 0.25) << "a running chip silent for 2 minutes must read as grey";
  // A grid per rack, r01's left of r02's; failing chips first, else by slot.
  EXPECT_LT(view.tile_rect("A-0").left(), view.tile_rect("B-0").left());
  // In reading order: left to right, then top to bottom.
  auto before = [](const QRect& a, const QRect& b) {
    return a.top() < b.top() || (a.top() == b.top() && a.left() < b.left());
  };
  EXPECT_TRUE(before(view.tile_rect("A-1"), view.tile_rect("A-0"))) << "A-1 failed: it comes first";
  view.set_failing_first(false);
  EXPECT_TRUE(before(view.tile_rect("A-0"), view.tile_rect("A-1"))) << "by slot";
}

TEST(LabView, TemperatureColouringHoverAndClick) {
  Dashboard dashboard;
  const auto now = Dashboard::local_now_ms();
  dashboard.staging().push_update(with_racks(make_update(lab_of_four(now), true, now)));
  dashboard.refresh();
  LabView view(dashboard);
  view.resize(800, 500);
  view.show();
  view.set_mode(ColourMode::temperature);
  const QColor hot = pixel_at_centre(view, view.tile_rect("B-0").adjusted(0, 0, 0, -20));
  const QColor warm = pixel_at_centre(view, view.tile_rect("A-0").adjusted(0, 0, 0, -20));
  EXPECT_GT(hot.redF(), warm.redF()) << "101 °C must look hotter than 60 °C";
  const ChipState* chip = view.chip_at(view.tile_rect("B-0").center());
  ASSERT_NE(chip, nullptr);
  const QString tip = view.tooltip_for(*chip);
  EXPECT_TRUE(tip.contains("B-0"));
  EXPECT_TRUE(tip.contains("101.0 °C")) << tip.toStdString();

  QSignalSpy clicked(&view, &LabView::chipActivated);
  const QPointF at = view.tile_rect("A-1").center();
  QMouseEvent press(QEvent::MouseButtonPress, at, view.mapToGlobal(at), Qt::LeftButton, Qt::LeftButton, Qt::NoModifier);
  QCoreApplication::sendEvent(&view, &press);
  ASSERT_EQ(clicked.count(), 1);
  EXPECT_EQ(clicked.front().front().toString(), "A-1");
}

TEST(Dashboard, DeliversRepliesAndLinkStateOnRefresh) {
  Dashboard dashboard;
  QSignalSpy link(&dashboard, &Dashboard::linkChanged);
  bool answered = false;
  kiln::v1::Query q;
  q.set_kind(kiln::v1::Query::RUNS);
  // Not connected: the reply is an error, and it comes on the GUI thread at the next refresh.
  dashboard.query(q, [&](const Result<std::string>& body) {
    answered = true;
    EXPECT_FALSE(body);
  });
  EXPECT_FALSE(answered);
  dashboard.refresh();
  EXPECT_TRUE(answered);
  dashboard.staging().set_link(LinkState{LinkPhase::reconnecting, "h:1", "no daemon", 3, 0});
  dashboard.refresh();
  EXPECT_EQ(link.count(), 1);
  EXPECT_EQ(dashboard.link().attempt, 3);
}

TEST(MainWindow, ShowsTheReconnectStateInTheStatusBar) {
  Dashboard dashboard;
  MainWindow window(dashboard);
  dashboard.staging().set_link(LinkState{LinkPhase::reconnecting, "127.0.0.1:7450", "no daemon: refused", 2, 0});
  dashboard.refresh();
  EXPECT_TRUE(window.link_text().contains("reconnecting to 127.0.0.1:7450")) << window.link_text().toStdString();
  EXPECT_TRUE(window.link_text().contains("attempt 2"));
  dashboard.staging().set_link(LinkState{LinkPhase::connected, "127.0.0.1:7450", "kilnd 0.1.0", 0, 0});
  dashboard.refresh();
  EXPECT_TRUE(window.link_text().contains("connected to 127.0.0.1:7450"));
}

TEST(AlarmsView, AcknowledgeAndJumpToTheChip) {
  Dashboard dashboard;
  AlarmsView view(dashboard);
  QSignalSpy unacked(&view, &AlarmsView::unacknowledgedChanged);
  QSignalSpy jump(&view, &AlarmsView::chipRequested);
  kiln::v1::LiveUpdate u;
  for (std::uint64_t id : {1u, 2u}) {
    auto* a = u.add_alarms();
    a->set_id(id);
    a->set_kind(id == 1 ? kiln::v1::ALARM_FAILURE : kiln::v1::ALARM_AGENT_LOST);
    a->set_serial(id == 1 ? "TRN-0205" : "");
    a->set_rack("r02");
    a->set_unix_ms(1000 * static_cast<std::int64_t>(id));
  }
  dashboard.staging().push_update(u);
  dashboard.refresh();
  ASSERT_GE(unacked.count(), 1);
  EXPECT_EQ(unacked.back().front().toInt(), 2);
  EXPECT_EQ(dashboard.alarms().unacknowledged(), 2u);
  view.acknowledge_all();
  EXPECT_EQ(dashboard.alarms().unacknowledged(), 0u);
  EXPECT_EQ(unacked.back().front().toInt(), 0);
  (void)jump;
}

// Run 1: one 100-s step, "gemm".
RunLayout one_step_of_100_s() {
  kiln::v1::RunPlan plan;
  plan.set_run_id(1);
  auto* step = plan.add_steps();
  step->set_name("gemm");
  step->set_duration_s(100);
  return RunLayout::from_plan(plan);
}

TEST(MetricChart, DrawsTheVisibleSpanOnlyAndZoomsBack) {
  const RunLayout layout = one_step_of_100_s();
  ChipSeries series("A-0", layout);
  kiln::v1::TelemetrySeries stored;
  auto* temperature = stored.add_series();
  temperature->set_serial("A-0");
  temperature->set_metric("temperature_c");
  for (int i = 0; i < 1000; ++i) {
    temperature->add_t_s(i * 0.1);
    temperature->add_values(50);
  }
  ASSERT_EQ(series.load_series(stored), 1000u);
  MetricChart chart({"Temperature", "°C", {"temperature_c"}, "temperature_c"});
  chart.resize(600, 300);
  chart.set_run(layout, {LimitBand{"temperature_c", 0, 100, std::nullopt, 95.0, std::nullopt, 90.0}});
  chart.set_data(series);
  EXPECT_EQ(chart.points_shown(), 1000u);
  EXPECT_FALSE(chart.zoomed());
  chart.set_x_range(10, 20, true);
  EXPECT_TRUE(chart.zoomed());
  EXPECT_LE(chart.points_shown(), 103u);
  chart.reset_zoom();
  EXPECT_FALSE(chart.zoomed());
  EXPECT_EQ(chart.points_shown(), 1000u);
}

// The legend's text items (Qt Charts draws each marker's label as one)
// that are shown and lie inside the chart.
std::vector<QString> legend_labels_shown(MetricChart& chart) {
  std::vector<QString> out;
  std::vector<QGraphicsItem*> todo{chart.chart()->legend()};
  const QRectF inside = chart.chart()->rect();
  while (!todo.empty()) {
    QGraphicsItem* item = todo.back();
    todo.pop_back();
    for (QGraphicsItem* child : item->childItems()) todo.push_back(child);
    auto* text = dynamic_cast<QGraphicsTextItem*>(item);
    if (text == nullptr || !text->isVisible()) continue;
    const QRectF at = text->sceneBoundingRect();
    if (!text->toPlainText().isEmpty() && at.width() > 1 && inside.contains(at)) out.push_back(text->toPlainText());
  }
  std::sort(out.begin(), out.end());
  return out;
}

// The first paint after a run is loaded (a grab: the dashboard's
// screenshots, a chip opened) names every line, with the limit bands in the
// chart. Qt lays a legend out on a posted event; before the fix this paint
// drew the legend's room without its labels.
TEST(MetricChart, NamesEveryLineInItsLegendOnTheFirstPaintWithLimitBands) {
  const RunLayout layout = one_step_of_100_s();
  ChipSeries series("A-0", layout);
  kiln::v1::TelemetrySeries stored;
  for (const char* metric : {"temperature_c", "hbm_temperature_c"}) {
    auto* one = stored.add_series();
    one->set_serial("A-0");
    one->set_metric(metric);
    for (int i = 0; i < 100; ++i) {
      one->add_t_s(i);
      one->add_values(50 + i % 7);
    }
  }
  ASSERT_EQ(series.load_series(stored), 200u);
  MetricChart chart({"Temperature", "°C", {"temperature_c", "hbm_temperature_c"}, "temperature_c"});
  chart.resize(600, 220);
  chart.show();
  chart.set_run(layout, {LimitBand{"temperature_c", 0, 100, std::nullopt, 95.0, std::nullopt, 90.0}});
  chart.set_data(series);
  (void)chart.grab();  // no event loop in between
  EXPECT_EQ(legend_labels_shown(chart), (std::vector<QString>{"hbm_temperature_c", "temperature_c"}));
}

}  // namespace
}  // namespace kiln::gui
