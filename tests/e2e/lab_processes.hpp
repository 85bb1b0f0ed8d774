#pragma once
// The demo lab as separate processes (kilnd, one kiln-agent per rack, kiln
// as a client) that a test can kill and start again: per-rack and admin
// credentials, each process's log per generation, waits on the lines the
// processes log (never on time), and what an interrupted run must still
// match: an uninterrupted run of the same seed.
#include <SQLiteCpp/Database.h>

#include <algorithm>
#include <csignal>
#include <map>
#include <set>
#include <vector>

#include "tests/e2e/spawned.hpp"
#include "tests/e2e/system_fixture.hpp"

namespace kiln::e2e {

class LabProcesses : public System {
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
    // No automatic retests: a run here is compared with the run after it,
    // which the retests of the SDC chip would otherwise come between.
    write_policy_without_retests(dir_);
  }
  void TearDown() override {
    for (const auto& [name, pid] : pids_) ::kill(pid, SIGKILL);
    System::TearDown();
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
              (dir_ / "credentials.yaml").string() + "' --rack-return-timeout 120 --lifecycle-policy '" +
              (dir_ / "no-retests.yaml").string() + "'",
          file);
    const std::string ready = "kilnd listening on 127.0.0.1:";
    ASSERT_TRUE(wait_for_line(file, ready)) << slurp(file);
    const std::string text = slurp(file);
    port_ = std::stoi(text.substr(text.find(ready) + ready.size()));
  }
  void start_agent(const std::string& rack) {
    spawn("agent-" + rack,
          bin("kiln-agent") + " --rack " + rack + " --daemon 127.0.0.1:" + std::to_string(port_) + " --token-file '" +
              (dir_ / (rack + ".token")).string() + "' --lab device/labs/demo.yaml --spool '" +
              (dir_ / ("spool-" + rack)).string() + "'",
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

  // Runs smoke again on the same lab and seed, uninterrupted, as run `id`,
  // from new processes: the chips start as cold as in a fresh lab.
  void run_uninterrupted_smoke(std::uint64_t id) {
    ASSERT_NE(id, 0u);
    for (const std::string rack : {"r01", "r02"}) stop("agent-" + rack, SIGTERM);
    stop("kilnd", SIGTERM);
    ASSERT_TRUE(wait_for_line(log("kilnd", kilnd_starts_), "kilnd stopped"));
    start_kilnd();
    start_agent("r01");
    start_agent("r02");
    for (const std::string rack : {"r01", "r02"}) {
      ASSERT_TRUE(wait_for_line(log("kilnd", kilnd_starts_), "agent of rack " + rack + " registered"));
    }
    Outcome submitted = run(client() + " run submit testplans/smoke.yaml --seed 7 --wait --fail-on never");
    ASSERT_EQ(submitted.status, 0) << submitted.err;
    EXPECT_NE(submitted.out.find("Run " + std::to_string(id) + " "), std::string::npos) << submitted.out;
  }
  // Run `id`'s stored telemetry, one line per sample without its wall-clock
  // column (the only one that differs between runs of one seed), sorted.
  std::vector<std::string> samples(std::uint64_t id) {
    Outcome csv = run(bin("kiln") + " --db '" + db() + "' telemetry " + std::to_string(id) + " --format csv");
    EXPECT_EQ(csv.status, 0) << csv.err;
    std::vector<std::string> lines;
    std::istringstream in(csv.out);
    std::string line;
    std::getline(in, line);  // header: serial,step,t_s,time,metric,value
    while (std::getline(in, line)) {
      // serial,step,t_s,TIME,metric,value: drop the fourth field.
      std::size_t cut = 0;
      for (int comma = 0; comma < 3; ++comma) cut = line.find(',', cut) + 1;
      const std::size_t next = line.find(',', cut);
      lines.push_back(line.substr(0, cut) + line.substr(next + 1));
    }
    std::sort(lines.begin(), lines.end());
    return lines;
  }
  // Nothing lost, nothing stored twice: run `chaotic` holds a sample for
  // exactly each (chip, step, time, metric) of the uninterrupted run
  // `reference`, with the same value in the steps of `same_values`. (A chip
  // idles while its run waits for a daemon or an agent, so what a step
  // measures after such a wait may differ: a cooler start.)
  void expect_same_samples(std::uint64_t chaotic, std::uint64_t reference, const std::set<std::string>& same_values) {
    const std::vector<std::string> got = samples(chaotic), want = samples(reference);
    ASSERT_FALSE(want.empty());
    const auto key = [](const std::string& line) { return line.substr(0, line.rfind(',')); };
    const auto step = [](const std::string& line) {
      const std::size_t from = line.find(',') + 1;
      return line.substr(from, line.find(',', from) - from);
    };
    std::vector<std::string> got_keys, want_keys;
    for (const auto& line : got) got_keys.push_back(key(line));
    for (const auto& line : want) want_keys.push_back(key(line));
    EXPECT_EQ(std::adjacent_find(got_keys.begin(), got_keys.end()), got_keys.end()) << "a sample stored twice";
    std::vector<std::string> lost, extra;
    std::set_difference(want_keys.begin(), want_keys.end(), got_keys.begin(), got_keys.end(), std::back_inserter(lost));
    std::set_difference(got_keys.begin(), got_keys.end(), want_keys.begin(), want_keys.end(),
                        std::back_inserter(extra));
    EXPECT_EQ(got.size(), want.size());
    EXPECT_TRUE(lost.empty()) << lost.size() << " samples lost, e.g. " << lost.front();
    EXPECT_TRUE(extra.empty()) << extra.size() << " samples not in the uninterrupted run, e.g. " << extra.front();
    std::vector<std::string> got_same, want_same, changed;
    for (const auto& line : got)
      if (same_values.contains(step(line))) got_same.push_back(line);
    for (const auto& line : want)
      if (same_values.contains(step(line))) want_same.push_back(line);
    EXPECT_FALSE(want_same.empty());
    std::set_symmetric_difference(got_same.begin(), got_same.end(), want_same.begin(), want_same.end(),
                                  std::back_inserter(changed));
    EXPECT_TRUE(changed.empty()) << changed.size() << " values differ from the uninterrupted run, e.g. "
                                 << changed.front();
  }
  void expect_database_intact() {
    SQLite::Database database(db(), SQLite::OPEN_READONLY);
    EXPECT_EQ(database.execAndGet("PRAGMA integrity_check").getString(), "ok");
  }

  std::map<std::string, int> pids_;
  int port_ = 0;
  int kilnd_starts_ = 0;
  std::map<std::string, int> agent_starts_;
};

}  // namespace kiln::e2e
