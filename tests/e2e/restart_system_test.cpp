// System tests: a run survives kilnd and agents being killed or stopped
// mid-run (docs/design.md, "Restarts"). The demo lab runs smoke paced (its
// time_scale), so that a phase is still running when a process goes; every
// wait is on a line the processes log, never on time.
#include "tests/e2e/lab_processes.hpp"

namespace {

using namespace kiln::e2e;

class Restarts : public LabProcesses {
 protected:
  // The run held one lease per rack from start to end: the restarted kilnd
  // kept them (same fencing tokens) rather than taking new ones, and said so.
  // (Stops the second kilnd first: its audit trail is written out as it stops.)
  void expect_leases_kept_across_the_restart() {
    stop("kilnd", SIGTERM);
    ASSERT_TRUE(wait_for_line(log("kilnd", 2), "kilnd stopped"));
    Outcome events = run(bin("kiln") + " --db '" + db() + "' events --run 1 --limit 0 --json");
    ASSERT_EQ(events.status, 0) << events.err;
    std::map<std::string, std::vector<std::string>> leases;  // kind -> "rack lease"
    const Json trail = Json::parse(events.out);
    for (const auto& e : trail["events"]) {
      const std::string kind = e["kind"];
      if (kind.rfind("lease_", 0) != 0) continue;
      leases[kind].push_back(e["detail"]["rack"].get<std::string>() + " " + e["detail"]["lease"].dump());
    }
    ASSERT_EQ(leases["lease_taken"].size(), 2u) << events.out;
    EXPECT_EQ(leases["lease_kept"], leases["lease_taken"]) << events.out;
    EXPECT_EQ(leases["lease_ended"], leases["lease_taken"]) << events.out;
  }
};

// kill -9 of kilnd in the SDC phase: the agents run on, the next kilnd
// resumes the run, and the verdicts are an uninterrupted run's.
TEST_F(Restarts, KilndKilledMidPhaseResumesWithTheSameVerdicts) {
  start_smoke();
  stop("kilnd", SIGKILL);
  start_kilnd();
  ASSERT_TRUE(wait_for_line(log("kilnd", 2), "run 1 completed")) << slurp(log("kilnd", 2));
  const Json r = report();
  EXPECT_EQ(r["run"]["status"], "completed");
  EXPECT_NE(r["run"].value("reason", "").find("interrupted and resumed: kilnd restarted during phase 1/2"),
            std::string::npos)
      << r["run"].dump(2);
  expect_demo_verdicts(r["chips"]);
}

// SIGTERM of kilnd once the SDC phase is judged: the run is left running
// (never `completed` with chips `error`), and the next kilnd goes on from
// the phase it was in.
TEST_F(Restarts, KilndStoppedGracefullyLeavesTheRunResumable) {
  start_smoke();
  ASSERT_TRUE(wait_for_line(log("kilnd", 1), "run 1: phase 2/2 (cooldown) dispatched"));
  stop("kilnd", SIGTERM);
  ASSERT_TRUE(wait_for_line(log("kilnd", 1), "kilnd stopped"));
  EXPECT_NE(slurp(log("kilnd", 1)).find("run 1 interrupted at phase 2/2"), std::string::npos);
  Outcome show = run(bin("kiln") + " --db '" + db() + "' run show 1 --json");
  ASSERT_EQ(show.status, 0) << show.err;
  EXPECT_EQ(Json::parse(show.out)["status"], "running");

  start_kilnd();
  ASSERT_TRUE(wait_for_line(log("kilnd", 2), "run 1 completed")) << slurp(log("kilnd", 2));
  EXPECT_NE(slurp(log("kilnd", 2)).find("run 1 resumed at phase 2/2"), std::string::npos);
  const Json r = report();
  EXPECT_EQ(r["run"]["status"], "completed");
  EXPECT_NE(r["run"].value("reason", "").find("kilnd restarted during phase 2/2"), std::string::npos)
      << r["run"].dump(2);
  expect_demo_verdicts(r["chips"]);
  expect_leases_kept_across_the_restart();
}

// kill -9 of the agent of the rack with the SDC chip, then a new agent: it
// registers, reruns the interrupted phase, and every chip gets a real verdict.
TEST_F(Restarts, AgentKilledMidPhaseRerunsItsPhaseAfterItRegistersAgain) {
  start_smoke();
  stop("agent-r02", SIGKILL);
  ASSERT_TRUE(wait_for_line(log("kilnd", 1), "run 1: rack r02 has no agent; waiting"));
  start_agent("r02");
  ASSERT_TRUE(wait_for_line(log("kilnd", 1), "run 1 completed")) << slurp(log("kilnd", 1));
  EXPECT_NE(slurp(log("kilnd", 1)).find("dispatched again to 8 chip(s) of rack r02 (its agent restarted: rerun)"),
            std::string::npos);
  const Json r = report();
  EXPECT_EQ(r["run"]["status"], "completed");
  EXPECT_NE(r["run"].value("reason", "").find("the agent of rack r02 restarted during phase 1/2; its chips reran it"),
            std::string::npos)
      << r["run"].dump(2);
  expect_demo_verdicts(r["chips"]);
  Outcome csv = run(bin("kiln") + " --db '" + db() + "' report 1 --format csv");
  EXPECT_NE(csv.out.find("rerun from its start after the agent of rack r02 restarted"), std::string::npos) << csv.out;
}

}  // namespace
