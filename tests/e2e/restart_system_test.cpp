// System tests: a run survives kilnd and agents being killed or stopped
// mid-run (docs/design.md, "Restarts"). The demo lab runs smoke paced (its
// time_scale), so that a phase is still running when a process goes; every
// wait is on a line the processes log, never on time.
#include <csignal>

#include "tests/e2e/system_fixture.hpp"

namespace {

using namespace kiln::e2e;

class Restarts : public System {
 protected:
  void SetUp() override {
    System::SetUp();
    std::string yaml = "credentials:\n";
    for (const std::string who : {"r01", "r02", "admin"}) {
      const std::string secret = "secret-of-" + who + "-in-the-restart-test-0123456789";
      yaml += who == "admin" ? "  - {name: admin, role: admin, secret: " + secret + "}\n"
                             : "  - {name: rack-" + who + ", rack: " + who + ", secret: " + secret + "}\n";
      write_private(dir_ / (who + ".token"), secret + "\n");
    }
    write_private(dir_ / "credentials.yaml", yaml);
  }
  void TearDown() override {
    for (const auto& [name, pid] : pids_) ::kill(pid, SIGKILL);
    System::TearDown();
  }

  static void write_private(const fs::path& path, const std::string& text) {
    std::ofstream(path) << text;
    fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
  }
  std::string db() const { return (dir_ / "kiln.db").string(); }
  std::string log(const std::string& name, int generation) const {
    return (dir_ / (name + "-" + std::to_string(generation) + ".log")).string();
  }

  // Starts `command` in the background, its output in `log_file`, as `name`.
  void spawn(const std::string& name, const std::string& command, const std::string& log_file) {
    const fs::path pid_file = dir_ / (name + ".pid");
    // run() sends the last command's output to its own files: the pid is
    // written by one before it.
    Outcome started =
        run("exec " + command + " >'" + log_file + "' 2>&1 & printf %s $! >'" + pid_file.string() + "'; true");
    ASSERT_EQ(started.status, 0) << started.err;
    pids_[name] = std::stoi(slurp(pid_file));
  }
  // Waits (up to a minute) until `log_file` has a line containing `text`.
  bool wait_for_line(const std::string& log_file, const std::string& text) {
    return run("timeout 60 bash -c \"grep -q -m1 -F -- '" + text + "' <(timeout 60 tail -F -n +1 '" + log_file +
               "' 2>/dev/null)\"")
               .status == 0;
  }
  void stop(const std::string& name, int signal) {
    ::kill(pids_.at(name), signal);
    pids_.erase(name);
  }

  // kilnd on the lab's database: any free port the first time, that port after.
  void start_kilnd() {
    const std::string file = log("kilnd", ++kilnd_starts_);
    spawn("kilnd",
          bin("kilnd") + " --db '" + db() + "' --listen 127.0.0.1:" + std::to_string(port_) + " --credentials '" +
              (dir_ / "credentials.yaml").string() + "' --rack-return-timeout 120",
          file);
    const std::string ready = "kilnd listening on 127.0.0.1:";
    ASSERT_TRUE(wait_for_line(file, ready)) << slurp(file);
    const std::string text = slurp(file);
    port_ = std::stoi(text.substr(text.find(ready) + ready.size()));
  }
  void start_agent(const std::string& rack) {
    spawn("agent-" + rack,
          bin("kiln-agent") + " --rack " + rack + " --daemon 127.0.0.1:" + std::to_string(port_) + " --token-file '" +
              (dir_ / (rack + ".token")).string() + "' --lab device/labs/demo.yaml",
          log("agent-" + rack, ++agent_starts_[rack]));
  }
  // Smoke on the demo lab with a fixed seed; waits until its first phase
  // runs on both racks.
  void start_smoke() {
    start_kilnd();
    start_agent("r01");
    start_agent("r02");
    ASSERT_TRUE(wait_for_line(log("kilnd", 1), "agent of rack r01 registered"));
    ASSERT_TRUE(wait_for_line(log("kilnd", 1), "agent of rack r02 registered"));
    Outcome submitted = run(client() + " run submit testplans/smoke.yaml --seed 7");
    ASSERT_EQ(submitted.status, 0) << submitted.err;
    for (const std::string rack : {"r01", "r02"}) {
      ASSERT_TRUE(wait_for_line(log("agent-" + rack, 1), "run 1 phase 0: 1 step(s) started"));
    }
  }
  std::string client() const {
    return bin("kiln") + " --daemon 127.0.0.1:" + std::to_string(port_) + " --token-file '" +
           (dir_ / "admin.token").string() + "'";
  }
  std::string bin(const std::string& name) const { return std::string(KILN_BIN_DIR) + "/" + name; }
  Json report() {
    Outcome r = run(bin("kiln") + " --db '" + db() + "' report 1 --format json");
    EXPECT_EQ(r.status, 0) << r.err;
    return Json::parse(r.out);
  }

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

  std::map<std::string, int> pids_;
  int port_ = 0;
  int kilnd_starts_ = 0;
  std::map<std::string, int> agent_starts_;
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
