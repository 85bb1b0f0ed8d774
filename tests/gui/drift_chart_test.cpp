// The chip view's drift: read from the CHIP answer's lifecycle.drift, drawn
// as each figure's change from the chip's first judged run, the figure that
// drifted past the threshold red and thick with its finding in the legend.
#include <QtCharts/QChart>
#include <QtCharts/QLineSeries>

#include <QDir>

#include <gtest/gtest.h>

#include "gui/model/drift_trend.hpp"
#include "gui/widgets/drift_chart.hpp"

namespace kiln::gui {
namespace {

// What `kiln chip SERIAL --json` answers for a chip whose GEMM rate fell 10 %
// over four runs (an alarm against its own history) while HBM held.
const char* kChip = R"({
  "serial": "TRN-0101", "sku": "trn2-sim", "rack": "r01", "slot": 1, "runs": [],
  "lifecycle": {"state": "suspect", "drift": {"alarm": true, "figures": {
    "gemm_tflops[bf16]": {"trend": [{"run": 3, "value": 400}, {"run": 5, "value": 390},
                                    {"run": 8, "value": 372}, {"run": 9, "value": 360}],
      "history": {"alarm": true, "reason": "10.0 % below its own baseline 400", "change": -0.1},
      "peers": {"alarm": false, "reason": "within its peers", "change": -0.05}},
    "hbm_gbps": {"trend": [{"run": 3, "value": 2800}, {"run": 5, "value": 2810}, {"run": 9, "value": 2790}],
      "history": {"alarm": false, "reason": "steady"}, "peers": {"alarm": false, "reason": "within its peers"}},
    "hbm_ce_per_hour": {"trend": [{"run": 3, "value": 0}, {"run": 9, "value": 2}],
      "history": {"alarm": false, "reason": "steady"}, "peers": {"alarm": false, "reason": "peers"}}
  }}}})";

TEST(DriftTrend, ReadsEachFigureOldestFirstWithWhetherItAlarmed) {
  auto trend = DriftTrend::from_chip_json(kChip);
  ASSERT_TRUE(trend.ok()) << trend.error().message;
  EXPECT_TRUE(trend->alarm);
  ASSERT_EQ(trend->figures.size(), 3u);
  const DriftFigure& gemm = trend->figures[0];
  EXPECT_EQ(gemm.name, "gemm_tflops[bf16]");
  ASSERT_EQ(gemm.points.size(), 4u);
  EXPECT_EQ(gemm.points[0].run_id, 3u);
  EXPECT_EQ(gemm.points[3].run_id, 9u);
  EXPECT_TRUE(gemm.alarm);
  EXPECT_EQ(gemm.reason, "10.0 % below its own baseline 400");
  EXPECT_DOUBLE_EQ(*gemm.percent_change(3), -10.0);
  EXPECT_DOUBLE_EQ(*gemm.percent_change(0), 0.0);
  // A count that started at zero has no percentage.
  EXPECT_FALSE(trend->figures[1].percent_change(1).has_value());
  EXPECT_FALSE(trend->figures[2].alarm);
}

TEST(DriftTrend, AChipWithoutDriftHasNoFiguresAndBadJsonIsAnError) {
  auto none = DriftTrend::from_chip_json(R"({"serial": "X", "runs": []})");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->figures.empty());
  EXPECT_FALSE(none->alarm);
  EXPECT_FALSE(DriftTrend::from_chip_json("not json").ok());
}

TEST(DriftChart, DrawsEveryFigureAsPercentFromFirstAndTheAlarmInRed) {
  DriftChart chart;
  chart.set_trend(*DriftTrend::from_chip_json(kChip));
  const auto series = chart.chart()->series();
  ASSERT_EQ(series.size(), 3);
  auto* gemm = qobject_cast<QLineSeries*>(series[0]);
  ASSERT_NE(gemm, nullptr);
  ASSERT_EQ(gemm->count(), 4);
  EXPECT_DOUBLE_EQ(gemm->at(3).x(), 4.0);
  EXPECT_DOUBLE_EQ(gemm->at(3).y(), -10.0);
  EXPECT_TRUE(gemm->name().contains("ALARM: 10.0 % below its own baseline 400")) << gemm->name().toStdString();
  EXPECT_EQ(gemm->pen().color(), QColor(0xd6, 0x27, 0x28));
  auto* hbm = qobject_cast<QLineSeries*>(series[2]);
  EXPECT_FALSE(hbm->name().contains("ALARM"));
  EXPECT_NE(hbm->pen().color(), QColor(0xd6, 0x27, 0x28));
  EXPECT_EQ(chart.summary().toStdString(),
            "gemm_tflops[bf16]: 4 runs, -10.0% (alarm); hbm_ce_per_hour: 2 runs, n/a; hbm_gbps: 3 runs, -0.4%");
  // What it looks like (docs/dashboard.md): the build's screenshots folder.
  chart.resize(900, 320);
  QDir().mkpath(KILN_SCREENSHOT_DIR);
  EXPECT_TRUE(chart.grab().save(QStringLiteral(KILN_SCREENSHOT_DIR "/dashboard-chip-drift.png")));
}

}  // namespace
}  // namespace kiln::gui
