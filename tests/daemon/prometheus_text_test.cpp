#include "daemon/prometheus_text.hpp"

#include <gtest/gtest.h>

namespace kiln::daemon {
namespace {

TEST(PrometheusText, LabelValuesEscapeBackslashQuoteAndNewline) {
  EXPECT_EQ(prometheus_label_value(R"(a\b"c)"
                                   "\n"),
            R"(a\\b\"c\n)");
  EXPECT_EQ(prometheus_label_value("R01-00"), "R01-00");
}

TEST(PrometheusText, AChipsReadingsAreLabelledAndCountersEndInTotal) {
  LiveFeed::Snapshot live;
  live.metric_names = {"temperature_c", "link1_crc_errors", "not_a_metric"};
  kiln::v1::ChipLive chip;
  chip.set_serial("S\"1");
  chip.set_rack("r01");
  chip.set_slot(2);
  chip.set_sku("trn2-sim");
  chip.set_verdict(kiln::v1::LIVE_VERDICT_FAIL);
  for (std::uint32_t i = 0; i < 3; ++i) {
    chip.add_metric_index(i);
    chip.add_metric_value(40.5 + i);
  }
  live.chips.push_back(chip);
  const std::string page = prometheus_text(live, DaemonHealth{}, metrics::MetricCatalog::builtin());
  const std::string labels = R"(serial="S\"1",rack="r01",slot="2",sku="trn2-sim")";
  EXPECT_NE(page.find("kiln_chip_temperature_c{" + labels + "} 40.5\n"), std::string::npos) << page;
  EXPECT_NE(page.find("# TYPE kiln_link_crc_errors_total counter\n"), std::string::npos) << page;
  EXPECT_NE(page.find("kiln_link_crc_errors_total{" + labels + ",link=\"1\"} 41.5\n"), std::string::npos) << page;
  EXPECT_NE(page.find("kiln_chip_verdict{" + labels + ",verdict=\"fail\"} 1\n"), std::string::npos) << page;
  EXPECT_EQ(page.find("not_a_metric"), std::string::npos) << "a name the catalog does not define is left out";
}

}  // namespace
}  // namespace kiln::daemon

namespace kiln::daemon {
namespace {

TEST(PrometheusText, LifecycleCountsEveryStatePerSkuZeroIncluded) {
  DaemonHealth health;
  health.lifecycle_chips[{"healthy", "trn2-sim"}] = 14;
  health.lifecycle_chips[{"quarantined", "trn2-sim"}] = 2;
  const std::string page = prometheus_text(LiveFeed::Snapshot{}, health, metrics::MetricCatalog::builtin());
  EXPECT_NE(page.find("# TYPE kiln_chips_lifecycle gauge\n"), std::string::npos) << page;
  EXPECT_NE(page.find("kiln_chips_lifecycle{state=\"healthy\",sku=\"trn2-sim\"} 14\n"), std::string::npos) << page;
  EXPECT_NE(page.find("kiln_chips_lifecycle{state=\"quarantined\",sku=\"trn2-sim\"} 2\n"), std::string::npos) << page;
  EXPECT_NE(page.find("kiln_chips_lifecycle{state=\"rma\",sku=\"trn2-sim\"} 0\n"), std::string::npos) << page;
}

}  // namespace
}  // namespace kiln::daemon
