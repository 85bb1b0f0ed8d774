// The report as a lab with many faults reads it, from a store the way kilnd
// writes it: repeated steps told apart, each failure listed once, the
// reproduce line naming the plan by the path it was submitted with.
#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <sstream>

#include "reports/queries.hpp"
#include "reports/report_text.hpp"
#include "reports/reproduce.hpp"
#include "tests/schema/store_test_support.hpp"

namespace kiln::reports {
namespace {

using Json = nlohmann::json;
using store::testing::add_sample;
using store::testing::make_batch;
using store::testing::make_rack;
using store::testing::make_run;
using store::testing::must;

std::size_t occurrences(const std::string& text, const std::string& part) {
  std::size_t n = 0;
  for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + part.size())) ++n;
  return n;
}

store::FailureRow failure(const std::string& cls, const std::string& location, const std::string& detail) {
  store::FailureRow f;
  f.cls = cls;
  f.count = 1;
  f.location_json = location;
  f.detail = detail;
  return f;
}

// A plan of two steps run twice (`repeat: 2`): gemm-bf16, hbm, gemm-bf16, hbm.
class ReportFromStore : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.file("kiln.db");
    writer_ = must(store::Writer::open(path_));
    must(writer_->upsert_rack(make_rack("r01", 2), 1'700'000'000'000));
    store::NewRun run = make_run();
    run.racks = {"r01"};
    run.steps.push_back(store::StepRow{2, 2, 1, "gemm-bf16", "gemm", 300, "{}", "{}"});
    run.steps.push_back(store::StepRow{3, 3, 1, "hbm", "hbm", 180, "{}", "{}"});
    run_id_ = must(writer_->create_run(run));
    must(writer_->add_run_chips(run_id_,
                                {{"r01-00", "r01", 0, "trn2-sim", "fail"}, {"r01-01", "r01", 1, "trn2-sim", "pass"}}));
    for (std::uint32_t step = 0; step < 4; ++step) {
      must(writer_->set_chip_step_verdict(run_id_, step, "r01-01", "pass", "", {}));
      if (step != 2) must(writer_->set_chip_step_verdict(run_id_, step, "r01-00", "pass", "", {}));
    }
  }

  Json report() {
    reader_ = must(store::Reader::open(path_));
    return Json::parse(must(report_json(*reader_, run_id_)));
  }
  // A sample of r01-00 at t 0.5 in both gemm-bf16 steps, then the CSV.
  void add_sample_and_export(std::ostream& csv) {
    auto batch = make_batch("r01", 1, 1);
    add_sample(batch, run_id_, 0, "r01-00", 0.5, {{"temperature_c", 40.0}});
    add_sample(batch, run_id_, 2, "r01-00", 0.5, {{"temperature_c", 41.0}});
    ASSERT_TRUE(must(writer_->ingest_batch(batch)));
    reader_ = must(store::Reader::open(path_));
    must(telemetry_csv(*reader_, run_id_, "r01-00", "temperature_c", csv));
  }
  std::string text() {
    reader_ = must(store::Reader::open(path_));
    return must(render_report_text(must(report_json(*reader_, run_id_))));
  }

  store::testing::TempDir dir_;
  std::string path_;
  std::unique_ptr<store::Writer> writer_;
  std::unique_ptr<store::Reader> reader_;
  std::uint64_t run_id_ = 0;
};

// Defect: with `repeat:` a report named both gemm-bf16 steps "gemm-bf16", so
// a failure in the second read as one in the first.
TEST_F(ReportFromStore, NamesTheSecondOccurrenceOfAStepNameWithItsNumberEverywhere) {
  must(writer_->set_chip_step_verdict(run_id_, 2, "r01-00", "fail", "sdc",
                                      {failure("sdc", R"({"core":1,"pe":[12,40],"bit":22})", "")}));
  const Json r = report();
  const Json& steps = r["chips"][0]["steps"];
  ASSERT_EQ(steps.size(), 4u);
  EXPECT_EQ(steps[0]["label"], "gemm-bf16");
  EXPECT_EQ(steps[2]["label"], "gemm-bf16 #2");
  EXPECT_EQ(steps[2]["name"], "gemm-bf16") << "the plan's name is kept";
  EXPECT_EQ(steps[3]["label"], "hbm #2");
  EXPECT_EQ(steps[2]["index"], 2);
  const Json& f = r["chips"][0]["failures"][0];
  EXPECT_EQ(f["step"], "gemm-bf16");
  EXPECT_EQ(f["step_index"], 2);
  EXPECT_EQ(f["step_label"], "gemm-bf16 #2");

  const Json run = Json::parse(must(run_json(*reader_, run_id_)));  // kiln run show
  EXPECT_EQ(run["steps"][2]["label"], "gemm-bf16 #2");

  const std::string t = text();
  EXPECT_NE(t.find("VERDICT      gemm-bf16    hbm          gemm-bf16 #2 hbm #2"), std::string::npos) << t;
  EXPECT_NE(t.find("r01-00 sdc in step gemm-bf16 #2: core 1 pe [12,40] bit 22"), std::string::npos) << t;

  std::ostringstream csv;
  add_sample_and_export(csv);
  EXPECT_NE(csv.str().find("r01-00,gemm-bf16 #2,0.500,"), std::string::npos) << csv.str();
  EXPECT_NE(csv.str().find("r01-00,gemm-bf16,0.500,"), std::string::npos) << csv.str();
}

// Defect: a link trained narrow breaks both `link_gbps` and `busbw_gbps` in
// interconnect-soak's allreduce; the judge locates each at the link, and the
// report listed the same link_degraded failure twice.
TEST_F(ReportFromStore, ListsTheSameFailureOfAChipStepOnce) {
  must(writer_->set_chip_step_verdict(
      run_id_, 2, "r01-00", "fail", "link_gbps; busbw_gbps",
      {failure("link_degraded", R"({"link":0})", "link_gbps avg 80 < min 152 (0.95 of peak 160)"),
       failure("link_degraded", R"({"link": 0})", "busbw_gbps avg 160 < min 256 (0.8 of peak 320)"),
       failure("link_degraded", R"({"link":1})", "link_gbps avg 80 < min 152 (0.95 of peak 160)")}));
  const Json r = report();
  const Json& failures = r["chips"][0]["failures"];
  ASSERT_EQ(failures.size(), 2u) << failures.dump(2);
  EXPECT_EQ(failures[0]["link"], 0);
  EXPECT_EQ(failures[0]["detail"],
            "link_gbps avg 80 < min 152 (0.95 of peak 160); busbw_gbps avg 160 < min 256 (0.8 of peak 320)");
  EXPECT_EQ(failures[1]["link"], 1);

  const std::string t = text();
  EXPECT_EQ(occurrences(t, "r01-00 link_degraded in step gemm-bf16 #2: link 0 ×1"), 1u) << t;
  EXPECT_EQ(occurrences(t, "r01-00 link_degraded in step gemm-bf16 #2: link 1 ×1"), 1u) << t;
}

// The same failure in two different steps is two failures.
TEST_F(ReportFromStore, KeepsTheSameFailureInTwoStepsApart) {
  must(writer_->set_chip_step_verdict(run_id_, 1, "r01-00", "fail", "link_down",
                                      {failure("link_down", R"({"link":0})", "")}));
  must(writer_->set_chip_step_verdict(run_id_, 3, "r01-00", "fail", "link_down",
                                      {failure("link_down", R"({"link":0})", "")}));
  const std::string t = text();
  EXPECT_EQ(occurrences(t, "r01-00 link_down in step hbm: link 0"), 1u) << t;
  EXPECT_EQ(occurrences(t, "r01-00 link_down in step hbm #2: link 0"), 1u) << t;
}

// Defect: the reproduce line said `kiln run submit smoke.yaml`, which cannot
// be pasted unless one stands in the plan's directory.
TEST_F(ReportFromStore, ReproduceLineNamesThePlanByThePathItWasGiven) {
  const std::string with_path =
      must(with_plan_path(must(report_json(*must(store::Reader::open(path_)), run_id_)), "../plans/x.yaml"));
  const Json r = Json::parse(with_path);
  EXPECT_EQ(r["run"]["plan_path"], "../plans/x.yaml");
  const std::string t = must(render_report_text(with_path));
  EXPECT_NE(t.find("\nReproduce: kiln run submit ../plans/x.yaml --seed 18446744073709551600 --racks r01  "
                   "(plan sha256 "),
            std::string::npos)
      << t;
  EXPECT_EQ(t.find("not recorded"), std::string::npos) << t;
}

TEST_F(ReportFromStore, ReproduceLineSaysWhenOnlyThePlansNameIsKnown) {
  const std::string t = text();
  EXPECT_NE(t.find("Reproduce: kiln run submit smoke.yaml --seed "), std::string::npos) << t;
  EXPECT_NE(t.find("the path it was submitted with is not recorded)"), std::string::npos) << t;
  EXPECT_FALSE(report()["run"].contains("plan_path"));
  EXPECT_FALSE(with_plan_path("not json", "x.yaml"));
}

TEST(ReportReproduce, TheStoreKeepsThePathARunWasSubmittedWith) {
  store::testing::TempDir dir;
  const std::string path = dir.file("kiln.db");
  auto writer = must(store::Writer::open(path));
  must(writer->upsert_rack(make_rack("r01", 1), 1'700'000'000'000));
  store::NewRun run = make_run();
  run.racks = {"r01"};
  run.plan_path = "testplans/standard.yaml";
  const std::uint64_t id = must(writer->create_run(run));
  const Json r = Json::parse(must(report_json(*must(store::Reader::open(path)), id)));
  EXPECT_EQ(r["run"]["plan_path"], "testplans/standard.yaml");
  EXPECT_EQ(r["reproduce"].get<std::string>().rfind("kiln run submit testplans/standard.yaml --seed ", 0), 0u)
      << r["reproduce"];
}

TEST(ReportReproduce, APathAShellWouldReadAsMoreThanOneWordIsQuoted) {
  RunToReproduce run{"plans/it's here; rm -rf ~.yaml", "x", 7, {"r01"}, "abc"};
  EXPECT_EQ(reproduce_command(run).rfind("kiln run submit 'plans/it'\\''s here; rm -rf ~.yaml' --seed 7 ", 0), 0u)
      << reproduce_command(run);
  run.plan_path = "../plans/x-1.yaml";
  EXPECT_EQ(reproduce_command(run).rfind("kiln run submit ../plans/x-1.yaml --seed 7 ", 0), 0u);
}

}  // namespace
}  // namespace kiln::reports
