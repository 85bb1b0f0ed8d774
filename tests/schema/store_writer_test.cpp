// Runs, racks, verdicts and transactions as the daemon writes them, checked
// through the Reader a user's `kiln report` would use.

#include <gtest/gtest.h>

#include <cmath>

#include "schema/store.hpp"
#include "store_test_support.hpp"

namespace kiln::store {
namespace {

using testing::make_run;
using testing::must;

class StoreWriter : public ::testing::Test {
 protected:
  void SetUp() override { writer_ = must(Writer::open(path_)); }
  std::unique_ptr<Reader> reader() { return must(Reader::open(path_)); }

  testing::TempDir dir_;
  std::string path_ = dir_.file("kiln.db");
  std::unique_ptr<Writer> writer_;
};

TEST_F(StoreWriter, CreateRunRoundTripsThroughTheReader) {
  const NewRun run = make_run("plan: smoke\n# verbatim, comments included\n");
  const std::uint64_t run_id = must(writer_->create_run(run));
  must(writer_->add_run_chips(
      run_id, {RunChipRow{"r02-01", "r02", 1, "h100-sim", ""}, RunChipRow{"r01-00", "r01", 0, "trn2-sim", ""},
               RunChipRow{"r01-01", "r01", 1, "trn2-sim", "pass"}}));

  auto reader = this->reader();
  const RunRow stored = must(reader->run(run_id));
  EXPECT_EQ(stored.id, run_id);
  EXPECT_EQ(stored.plan_name, "smoke");
  EXPECT_EQ(stored.plan_sha256, run.plan_sha256);
  EXPECT_EQ(stored.seed, run.seed);
  EXPECT_EQ(stored.lab, "demo");
  EXPECT_EQ(stored.racks, run.racks);
  EXPECT_EQ(stored.status, "queued");
  EXPECT_EQ(stored.reason, "");
  EXPECT_EQ(stored.sample_hz, 10);
  EXPECT_EQ(stored.submitted_unix_ms, run.submitted_unix_ms);
  EXPECT_FALSE(stored.started_unix_ms);
  EXPECT_FALSE(stored.ended_unix_ms);
  EXPECT_EQ(must(reader->plan_text(run_id)), run.plan_text);

  const std::vector<StepRow> steps = must(reader->steps(run_id));
  ASSERT_EQ(steps.size(), 2u);
  for (std::size_t i = 0; i < steps.size(); ++i) {
    EXPECT_EQ(steps[i].step_index, run.steps[i].step_index);
    EXPECT_EQ(steps[i].phase_index, run.steps[i].phase_index);
    EXPECT_EQ(steps[i].repeat_index, run.steps[i].repeat_index);
    EXPECT_EQ(steps[i].name, run.steps[i].name);
    EXPECT_EQ(steps[i].pattern, run.steps[i].pattern);
    EXPECT_EQ(steps[i].duration_s, run.steps[i].duration_s);
    EXPECT_EQ(steps[i].params_json, run.steps[i].params_json);
    EXPECT_EQ(steps[i].limits_json, run.steps[i].limits_json);
  }

  const std::vector<RunChipRow> chips = must(reader->run_chips(run_id));
  ASSERT_EQ(chips.size(), 3u);  // ordered by rack, slot
  EXPECT_EQ(chips[0].serial, "r01-00");
  EXPECT_EQ(chips[0].verdict, "");
  EXPECT_EQ(chips[1].serial, "r01-01");
  EXPECT_EQ(chips[1].verdict, "pass");
  EXPECT_EQ(chips[2].serial, "r02-01");
  EXPECT_EQ(chips[2].rack, "r02");
  EXPECT_EQ(chips[2].slot, 1u);
  EXPECT_EQ(chips[2].sku, "h100-sim");
}

TEST_F(StoreWriter, StoresAPlanOnceAndRefusesADifferentTextUnderTheSameHash) {
  const NewRun run = make_run();
  const std::uint64_t first = must(writer_->create_run(run));
  const std::uint64_t second = must(writer_->create_run(run));
  EXPECT_NE(first, second);
  EXPECT_EQ(testing::count_rows(path_, "plans"), 1);

  NewRun forged = run;
  forged.plan_text += "# edited\n";
  const auto refused = writer_->create_run(forged);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, ErrorCode::conflict);
  EXPECT_EQ(must(reader()->list_runs()).size(), 2u);
}

TEST_F(StoreWriter, AFailedCreateRunLeavesNothingBehind) {
  NewRun run = make_run();
  run.steps.push_back(run.steps[0]);  // duplicate step_index 0
  const auto duplicate = writer_->create_run(run);
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().code, ErrorCode::invalid_argument) << duplicate.error().message;

  run = make_run();
  run.sample_hz = 0;
  EXPECT_EQ(writer_->create_run(run).error().code, ErrorCode::invalid_argument);
  run = make_run();
  run.plan_sha256 = "not-a-hash";
  EXPECT_EQ(writer_->create_run(run).error().code, ErrorCode::invalid_argument);
  run = make_run();
  run.steps[1].params_json = "{broken";
  EXPECT_FALSE(writer_->create_run(run));

  EXPECT_TRUE(must(reader()->list_runs()).empty());
  EXPECT_EQ(testing::count_rows(path_, "plans"), 0);
  EXPECT_EQ(testing::count_rows(path_, "steps"), 0);
}

TEST_F(StoreWriter, SetRunStatusStampsStartAndEndAndKeepsTerminalStatesFinal) {
  const std::uint64_t run_id = must(writer_->create_run(make_run()));
  must(writer_->set_run_status(run_id, "running", "", 1000));
  must(writer_->set_run_status(run_id, "running", "", 2000));  // started stays the first start
  auto reader = this->reader();
  RunRow row = must(reader->run(run_id));
  EXPECT_EQ(row.status, "running");
  EXPECT_EQ(row.started_unix_ms, 1000);
  EXPECT_FALSE(row.ended_unix_ms);

  must(writer_->set_run_status(run_id, "aborted", "operator abort", 3000));
  row = must(reader->run(run_id));
  EXPECT_EQ(row.status, "aborted");
  EXPECT_EQ(row.reason, "operator abort");
  EXPECT_EQ(row.started_unix_ms, 1000);
  EXPECT_EQ(row.ended_unix_ms, 3000);

  const Status again = writer_->set_run_status(run_id, "completed", "", 4000);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, ErrorCode::conflict);
  EXPECT_EQ(must(reader->run(run_id)).status, "aborted");

  EXPECT_EQ(writer_->set_run_status(run_id + 100, "running", "", 1).error().code, ErrorCode::not_found);
  const std::uint64_t other = must(writer_->create_run(make_run()));
  EXPECT_EQ(writer_->set_run_status(other, "paused", "", 1).error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(must(reader->run(other)).status, "queued");
}

TEST_F(StoreWriter, SetChipStepVerdictReplacesTheFailures) {
  const std::uint64_t run_id = must(writer_->create_run(make_run()));
  FailureRow sdc;
  sdc.cls = "sdc";
  sdc.count = 17;
  sdc.location_json = R"({"core":1,"pe":[12,40],"bit":22})";
  sdc.conditions_json = R"({"temperature_c":71.3})";
  sdc.first_t_s = 12.5;
  sdc.last_t_s = 250;
  sdc.first_unix_ms = 1111;
  sdc.last_unix_ms = 2222;
  sdc.detail = "abft mismatch";
  FailureRow thermal;
  thermal.cls = "thermal";
  thermal.count = 1;
  must(writer_->set_chip_step_verdict(run_id, 0, "TRN-0101", "fail", "2 failures", {sdc, thermal}));

  auto reader = this->reader();
  std::vector<ChipStepRow> rows = must(reader->chip_steps(run_id));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].serial, "TRN-0101");
  EXPECT_EQ(rows[0].verdict, "fail");
  ASSERT_EQ(rows[0].failures.size(), 2u);
  const FailureRow& stored = rows[0].failures[0];
  EXPECT_EQ(stored.cls, "sdc");
  EXPECT_EQ(stored.step_index, 0u);
  EXPECT_EQ(stored.step_name, "gemm-bf16");
  EXPECT_EQ(stored.count, 17u);
  EXPECT_EQ(stored.location_json, sdc.location_json);
  EXPECT_EQ(stored.conditions_json, sdc.conditions_json);
  EXPECT_EQ(stored.first_t_s, 12.5);
  EXPECT_EQ(stored.last_t_s, 250);
  EXPECT_EQ(stored.first_unix_ms, 1111);
  EXPECT_EQ(stored.last_unix_ms, 2222);
  EXPECT_EQ(stored.detail, "abft mismatch");
  EXPECT_EQ(rows[0].failures[1].location_json, "{}");

  // Re-judged: only the new failure remains.
  must(writer_->set_chip_step_verdict(run_id, 0, "TRN-0101", "fail", "1 failure", {thermal}));
  rows = must(reader->chip_steps(run_id));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].reason, "1 failure");
  ASSERT_EQ(rows[0].failures.size(), 1u);
  EXPECT_EQ(rows[0].failures[0].cls, "thermal");

  must(writer_->set_chip_step_verdict(run_id, 0, "TRN-0101", "pass", "", {}));
  rows = must(reader->chip_steps(run_id));
  EXPECT_EQ(rows[0].verdict, "pass");
  EXPECT_TRUE(rows[0].failures.empty());
}

TEST_F(StoreWriter, SetChipStepVerdictRejectsWhatTheSchemaDoesNotKnow) {
  const std::uint64_t run_id = must(writer_->create_run(make_run()));
  FailureRow good;
  good.cls = "hang";
  must(writer_->set_chip_step_verdict(run_id, 1, "TRN-1", "fail", "hung", {good}));

  FailureRow bad;
  bad.cls = "gremlins";
  const Status bad_class = writer_->set_chip_step_verdict(run_id, 1, "TRN-1", "fail", "", {bad});
  EXPECT_EQ(bad_class.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(writer_->set_chip_step_verdict(run_id, 1, "TRN-1", "meh", "", {}).error().code,
            ErrorCode::invalid_argument);
  EXPECT_EQ(writer_->set_chip_step_verdict(run_id, 9, "TRN-1", "pass", "", {}).error().code,
            ErrorCode::invalid_argument);

  // The refused calls changed nothing.
  const std::vector<ChipStepRow> rows = must(reader()->chip_steps(run_id));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].verdict, "fail");
  ASSERT_EQ(rows[0].failures.size(), 1u);
  EXPECT_EQ(rows[0].failures[0].cls, "hang");
}

TEST_F(StoreWriter, SetRunChipVerdictNeedsAChipOfTheRun) {
  const std::uint64_t run_id = must(writer_->create_run(make_run()));
  must(writer_->add_run_chips(run_id, {RunChipRow{"r01-00", "r01", 0, "trn2-sim", ""}}));
  must(writer_->set_run_chip_verdict(run_id, "r01-00", "marginal"));
  EXPECT_EQ(must(reader()->run_chips(run_id))[0].verdict, "marginal");
  EXPECT_EQ(writer_->set_run_chip_verdict(run_id, "r09-09", "pass").error().code, ErrorCode::not_found);
  EXPECT_EQ(writer_->set_run_chip_verdict(run_id, "r01-00", "great").error().code, ErrorCode::invalid_argument);
}

TEST_F(StoreWriter, FailUnfinishedRunsMarksQueuedAndRunningRunsAsError) {
  const std::uint64_t queued = must(writer_->create_run(make_run()));
  const std::uint64_t running = must(writer_->create_run(make_run()));
  const std::uint64_t completed = must(writer_->create_run(make_run()));
  for (std::uint64_t id : {queued, running, completed}) {
    must(writer_->add_run_chips(
        id, {RunChipRow{"r01-00", "r01", 0, "trn2-sim", ""}, RunChipRow{"r01-01", "r01", 1, "trn2-sim", ""}}));
  }
  must(writer_->set_run_status(running, "running", "", 100));
  must(writer_->set_run_chip_verdict(running, "r01-00", "fail"));  // decided before the daemon stopped
  must(writer_->set_chip_step_verdict(running, 0, "r01-00", "fail", "sdc", {}));
  must(writer_->set_chip_step_verdict(running, 1, "r01-00", "pass", "", {}));
  must(writer_->set_run_status(completed, "running", "", 100));
  must(writer_->set_run_status(completed, "completed", "", 200));

  EXPECT_EQ(must(writer_->fail_unfinished_runs("daemon restarted", 5000)), 2);

  auto reader = this->reader();
  for (std::uint64_t id : {queued, running}) {
    const RunRow row = must(reader->run(id));
    EXPECT_EQ(row.status, "error");
    EXPECT_EQ(row.reason, "daemon restarted");
    EXPECT_EQ(row.ended_unix_ms, 5000);
  }
  const std::vector<RunChipRow> chips = must(reader->run_chips(running));
  EXPECT_EQ(chips[0].verdict, "fail");   // a decided verdict stays
  EXPECT_EQ(chips[1].verdict, "error");  // undecided: infrastructure fault, not the chip's
  EXPECT_EQ(must(reader->run_chips(queued))[0].verdict, "error");
  EXPECT_EQ(must(reader->chip_steps(running))[0].verdict, "fail");

  const RunRow done = must(reader->run(completed));
  EXPECT_EQ(done.status, "completed");
  EXPECT_EQ(done.ended_unix_ms, 200);
  EXPECT_EQ(must(reader->run_chips(completed))[0].verdict, "");

  EXPECT_EQ(must(writer_->fail_unfinished_runs("again", 6000)), 0);
}

TEST_F(StoreWriter, UpsertRackPlacesItsChipsAndUnplacesThoseItNoLongerReports) {
  must(writer_->upsert_rack(testing::make_rack("r01", 3), 1000));
  auto reader = this->reader();
  std::vector<ChipRow> chips = must(reader->chips());
  ASSERT_EQ(chips.size(), 3u);
  EXPECT_EQ(chips[2].serial, "r01-02");
  EXPECT_EQ(chips[2].rack, "r01");
  EXPECT_EQ(chips[2].slot, 2u);
  EXPECT_EQ(chips[2].sku, "trn2-sim");
  EXPECT_EQ(chips[2].first_seen_unix_ms, 1000);

  // r01-02 was pulled; r01-01 re-registered with an unknown SKU keeps its known one.
  kiln::v1::RegisterRack again = testing::make_rack("r01", 2);
  again.mutable_chips(1)->clear_sku();
  must(writer_->upsert_rack(again, 2000));
  chips = must(reader->chips());
  ASSERT_EQ(chips.size(), 3u);
  EXPECT_EQ(chips[1].sku, "trn2-sim");
  EXPECT_EQ(chips[1].last_seen_unix_ms, 2000);
  EXPECT_EQ(chips[1].first_seen_unix_ms, 1000);
  EXPECT_EQ(chips[2].rack, "");
  EXPECT_EQ(chips[2].last_seen_unix_ms, 1000);

  // Moved to another rack.
  kiln::v1::RegisterRack r02 = testing::make_rack("r02", 0);
  auto* moved = r02.add_chips();
  moved->set_serial("r01-02");
  moved->set_slot(7);
  moved->set_sku("trn2-sim");
  must(writer_->upsert_rack(r02, 3000));
  chips = must(reader->chips());
  EXPECT_EQ(chips[2].rack, "r02");
  EXPECT_EQ(chips[2].slot, 7u);
  EXPECT_EQ(testing::count_rows(path_, "racks"), 2);
  EXPECT_EQ(testing::count_rows(path_, "labs"), 1);
}

TEST_F(StoreWriter, AddEventAcceptsRunlessAndChiplessEvents) {
  const std::uint64_t run_id = must(writer_->create_run(make_run()));
  must(writer_->add_event(0, "", "rack_connected", R"({"rack":"r01"})", 10));
  must(writer_->add_event(run_id, "r01-00", "agent_lost", "", 20));
  EXPECT_EQ(writer_->add_event(run_id + 5, "", "agent_lost", "", 30).error().code, ErrorCode::not_found);
  EXPECT_EQ(writer_->add_event(run_id, "", "", "", 30).error().code, ErrorCode::invalid_argument);
  EXPECT_FALSE(writer_->add_event(run_id, "", "note", "{not json", 30));
  EXPECT_EQ(testing::count_rows(path_, "events"), 2);
}

TEST_F(StoreWriter, RollbackDropsEverythingSinceBegin) {
  must(writer_->begin());
  EXPECT_TRUE(writer_->in_transaction());
  must(writer_->create_run(make_run()));
  EXPECT_EQ(writer_->begin().error().code, ErrorCode::conflict);
  writer_->rollback();
  EXPECT_FALSE(writer_->in_transaction());
  EXPECT_TRUE(must(reader()->list_runs()).empty());
  EXPECT_EQ(writer_->commit().error().code, ErrorCode::conflict);
}

TEST_F(StoreWriter, AFailedCallInsideATransactionUndoesOnlyItself) {
  must(writer_->begin());
  const std::uint64_t kept = must(writer_->create_run(make_run()));
  NewRun broken = make_run();
  broken.steps.push_back(broken.steps[0]);
  EXPECT_FALSE(writer_->create_run(broken));
  EXPECT_TRUE(writer_->in_transaction());
  must(writer_->commit());

  const std::vector<RunRow> runs = must(reader()->list_runs());
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].id, kept);
  EXPECT_EQ(must(reader()->steps(kept)).size(), 2u);
}

TEST_F(StoreWriter, UncommittedWorkIsDroppedWhenTheWriterCloses) {
  must(writer_->begin());
  must(writer_->create_run(make_run()));
  writer_.reset();
  EXPECT_TRUE(must(reader()->list_runs()).empty());
}

}  // namespace
}  // namespace kiln::store
