// The chip view's header and tables agree with what the chip did: TFLOPS as
// a percentage of the step's own dtype's peak, error counts that are the
// run's (what the charts show), alarm texts the daemon updated in place, and
// an empty tab that says how to open a chip.

#include <QLabel>

#include <gtest/gtest.h>

#include "gui/dashboard.hpp"
#include "gui/widgets/chip_view.hpp"
#include "tests/gui/gui_test_support.hpp"

namespace kiln::gui {
namespace {

// One chip, in run 7, step `step_index`, with the metrics given (name → value).
kiln::v1::LiveUpdate chip_update(std::uint32_t step_index, const std::vector<std::pair<std::string, double>>& values,
                                 std::int64_t now) {
  kiln::v1::LiveUpdate u;
  u.set_sent_unix_ms(now);
  auto* rack = u.add_racks();
  rack->set_rack("r01");
  rack->set_connected(true);
  auto* live = u.add_chips();
  live->set_serial("TRN-0205");
  live->set_rack("r01");
  live->set_slot(5);
  live->set_sku("trn2-sim");
  live->set_run_id(7);
  live->set_step_index(step_index);
  live->set_step(step_index == 0 ? "gemm-fp8" : "hbm-stream");
  live->set_verdict(kiln::v1::LIVE_VERDICT_RUNNING);
  live->set_wall_unix_ms(now);
  live->set_t_s(10);
  for (const auto& [name, value] : values) {
    live->add_metric_index(static_cast<std::uint32_t>(u.metric_names_size()));
    u.add_metric_names(name);
    live->add_metric_value(value);
  }
  (*live->mutable_peaks())["tflops.bf16"] = 667;
  (*live->mutable_peaks())["tflops.fp8"] = 1334;
  return u;
}

kiln::v1::RunPlan fp8_then_hbm() {
  kiln::v1::RunPlan plan;
  plan.set_run_id(7);
  auto* gemm = plan.add_steps();
  gemm->set_step_index(0);
  gemm->set_name("gemm-fp8");
  gemm->set_duration_s(60);
  (*gemm->mutable_params())["dtype"] = "fp8";
  auto* hbm = plan.add_steps();
  hbm->set_step_index(1);
  hbm->set_phase_index(1);
  hbm->set_name("hbm-stream");
  hbm->set_duration_s(60);
  return plan;
}

TEST(ChipView, TflopsAreAPercentageOfTheStepsOwnDtypePeak) {
  Dashboard dashboard;
  const auto now = Dashboard::local_now_ms();
  dashboard.staging().push_update(chip_update(0, {{"tflops", 1174}}, now));
  dashboard.refresh();
  dashboard.set_run_plan(fp8_then_hbm());
  ChipView view(dashboard);
  view.open("TRN-0205");
  const QString header = view.header_text();
  EXPECT_TRUE(header.contains("88 % of fp8 peak")) << header.toStdString();
  EXPECT_FALSE(header.contains("176")) << "1174 TFLOPS is 88 % of the fp8 peak, not 176 % of bf16's";
}

TEST(ChipView, NoPercentageBeforeTheRunsPlanSaysTheDtype) {
  Dashboard dashboard;
  const auto now = Dashboard::local_now_ms();
  dashboard.staging().push_update(chip_update(0, {{"tflops", 1174}}, now));
  dashboard.refresh();
  ChipView view(dashboard);
  view.open("TRN-0205");
  EXPECT_TRUE(view.header_text().contains("TFLOPS (n/a)")) << view.header_text().toStdString();
}

TEST(ChipView, ErrorCountIsTheRunsCountInAStepThatDoesNotReportIt) {
  Dashboard dashboard;
  const auto now = Dashboard::local_now_ms();
  // The verified GEMM step counted 1,873 SDCs; the next step reports no sdc_errors at all.
  dashboard.staging().push_update(chip_update(0, {{"tflops", 900}, {"sdc_errors", 1873}, {"hbm_ce", 0}}, now));
  dashboard.refresh();
  dashboard.staging().push_update(chip_update(1, {{"temperature_c", 70}, {"hbm_ce", 2}}, now + 1000));
  dashboard.refresh();
  ChipView view(dashboard);
  view.open("TRN-0205");
  const QString header = view.header_text();
  EXPECT_TRUE(header.contains("errors 1875")) << header.toStdString();
  EXPECT_TRUE(header.contains("SDC 1873")) << header.toStdString();
  EXPECT_TRUE(header.contains("HBM CE 2")) << header.toStdString();
}

TEST(ChipView, AlarmTextFollowsTheDaemonsUpdateInPlace) {
  Dashboard dashboard;
  const auto now = Dashboard::local_now_ms();
  dashboard.staging().push_update(chip_update(0, {{"tflops", 900}}, now));
  dashboard.refresh();
  ChipView view(dashboard);
  view.open("TRN-0205");
  auto alarm_update = [&](const std::string& message, bool cleared) {
    kiln::v1::LiveUpdate u;
    auto* a = u.add_alarms();
    a->set_id(3);
    a->set_kind(kiln::v1::ALARM_FAILURE);
    a->set_serial("TRN-0205");
    a->set_rack("r01");
    a->set_run_id(7);
    a->set_step("gemm-fp8");
    a->set_message(message);
    a->set_cleared(cleared);
    // Raised and updated within the same millisecond: the times are equal.
    a->set_unix_ms(now);
    a->set_updated_unix_ms(now);
    return u;
  };
  dashboard.staging().push_update(alarm_update("TRN-0205: over a limit so far in run 7: tflops", false));
  dashboard.refresh();
  ASSERT_EQ(view.failure_rows().size(), 1);
  EXPECT_TRUE(view.failure_rows()[0].contains("over a limit so far")) << view.failure_rows()[0].toStdString();
  dashboard.staging().push_update(alarm_update("TRN-0205: failed in run 7: tflops avg 412 < min 600", false));
  dashboard.refresh();
  ASSERT_EQ(view.failure_rows().size(), 1);
  EXPECT_TRUE(view.failure_rows()[0].contains("failed in run 7")) << view.failure_rows()[0].toStdString();
  dashboard.staging().push_update(alarm_update("TRN-0205: not confirmed", true));
  dashboard.refresh();
  EXPECT_TRUE(view.failure_rows().empty()) << "a withdrawn alarm is no failure";
}

TEST(ChipView, AnEmptyTabSaysHowToOpenAChip) {
  Dashboard dashboard;
  ChipView view(dashboard);
  view.resize(900, 600);
  view.show();
  EXPECT_TRUE(view.showing_hint());
  bool says_what_to_do = false;
  for (const QLabel* label : view.findChildren<QLabel*>()) {
    says_what_to_do = says_what_to_do || (label->isVisible() && label->text().contains("Click a chip in the lab view"));
  }
  EXPECT_TRUE(says_what_to_do) << "no chip open: the tab must say how to open one, not show blank axes";
  const auto now = Dashboard::local_now_ms();
  dashboard.staging().push_update(chip_update(0, {{"tflops", 900}}, now));
  dashboard.refresh();
  view.open("TRN-0205");
  EXPECT_FALSE(view.showing_hint());
}

}  // namespace
}  // namespace kiln::gui
