// A kilnd that stopped after recording a run's end but before applying its
// lifecycle applies it at the next start: runs_to_catch_up names every ended
// run after the last one whose lifecycle was applied, and none at all for a
// database from before the lifecycle.
#include <gtest/gtest.h>

#include "daemon/lifecycle_apply.hpp"
#include "tests/schema/store_test_support.hpp"

namespace kiln::daemon {
namespace {

constexpr std::int64_t kNow = 1'800'000'000'000;

struct CatchUp : ::testing::Test {
  store::testing::TempDir dir;
  std::string path = dir.file("kiln.db");
  std::unique_ptr<store::Writer> writer = std::move(store::Writer::open(path)).value();

  std::uint64_t ended_run(const std::string& status = "completed") {
    const std::uint64_t id = *writer->create_run(store::testing::make_run());
    EXPECT_TRUE(writer->set_run_status(id, "running", "", kNow).ok());
    EXPECT_TRUE(writer->set_run_status(id, status, status == "error" ? "the agent went away" : "", kNow).ok());
    return id;
  }
  void applied(std::uint64_t run) {
    store::EventRow e;
    e.run_id = run;
    e.kind = "lifecycle_applied";
    e.actor = kLifecycleActor;
    e.unix_ms = kNow;
    ASSERT_TRUE(writer->add_event(e).ok());
  }
  std::vector<std::uint64_t> to_catch_up() {
    auto reader = std::move(store::Reader::open(path)).value();
    auto runs = runs_to_catch_up(*reader);
    EXPECT_TRUE(runs.ok()) << runs.error().message;
    return runs.ok() ? *runs : std::vector<std::uint64_t>{};
  }
};

TEST_F(CatchUp, TheRunsEndedAfterTheLastAppliedOneAreAppliedInOrder) {
  const auto first = ended_run();
  applied(first);
  const auto second = ended_run();
  const auto third = ended_run("error");
  const auto running = *writer->create_run(store::testing::make_run());  // not ended: RunManager resumes it
  EXPECT_EQ(to_catch_up(), (std::vector<std::uint64_t>{second, third}));
  applied(second);
  applied(third);
  EXPECT_TRUE(to_catch_up().empty());
  EXPECT_NE(running, 0u);
}

TEST_F(CatchUp, ADatabaseFromBeforeTheLifecycleIsNotReplayed) {
  ended_run();
  ended_run();
  EXPECT_TRUE(to_catch_up().empty());
}

}  // namespace
}  // namespace kiln::daemon
