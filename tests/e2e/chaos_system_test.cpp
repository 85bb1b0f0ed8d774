// Chaos in the suite (issue 11): the demo lab's smoke run, as real
// processes, is interrupted — kilnd killed several times, an agent killed
// and restarted, a flood of hostile connections — and must end exactly as
// an uninterrupted run of the same seed on the same lab: the same verdicts,
// the same samples (none lost, none stored twice), and an intact database.
// bench/chaos/chaos.py is the long version.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tests/e2e/lab_processes.hpp"

namespace {

using namespace kiln::e2e;

class Chaos : public LabProcesses {
 protected:
  // kilnd's peak resident memory so far, in MiB (VmHWM).
  double kilnd_peak_mib() {
    const std::string status = slurp("/proc/" + std::to_string(pids_.at("kilnd")) + "/status");
    const std::size_t at = status.find("VmHWM:");
    return at == std::string::npos ? -1 : std::stod(status.substr(at + 6)) / 1024.0;
  }
  // One hostile connection: connects and sends `bytes`, kept open by the caller.
  int hostile(const std::string& bytes) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(static_cast<std::uint16_t>(port_));
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof to) != 0) {
      ::close(fd);
      return -1;
    }
    // A refused one may be closed already: its send fails, which is fine.
    (void)::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    return fd;
  }
  // `same_values`: the steps whose values must be the uninterrupted run's
  // too (what ran through the interruption, or was rerun from the start).
  void expect_as_uninterrupted(const std::set<std::string>& same_values) {
    expect_demo_verdicts(report()["chips"]);
    run_uninterrupted_smoke(2);
    expect_same_samples(1, 2, same_values);
    expect_database_intact();
  }
};

// kill -9 of kilnd three times in one run — while the first phase runs,
// right after the next daemon resumed it, and once the last phase is
// dispatched: the fourth daemon completes the run as if nothing happened.
TEST_F(Chaos, KilndKilledThreeTimesInOneRunLosesNoSampleAndStoresNoneTwice) {
  start_smoke();
  stop("kilnd", SIGKILL);
  start_kilnd();
  ASSERT_TRUE(wait_for_line(log("kilnd", 2), "run 1 resumed")) << slurp(log("kilnd", 2));
  ASSERT_TRUE(wait_for_line(log("kilnd", 2), "agent of rack r02 registered")) << slurp(log("kilnd", 2));
  stop("kilnd", SIGKILL);
  start_kilnd();
  ASSERT_TRUE(wait_for_line(log("kilnd", 3), "run 1: phase 2/2 (cooldown) dispatched")) << slurp(log("kilnd", 3));
  stop("kilnd", SIGKILL);
  start_kilnd();
  ASSERT_TRUE(wait_for_line(log("kilnd", 4), "run 1 completed")) << slurp(log("kilnd", 4));
  const Json r = report();
  EXPECT_EQ(r["run"]["status"], "completed") << r["run"].dump(2);
  expect_as_uninterrupted({"gemm-bf16"});
}

// kill -9 of the agent of the rack with the SDC chip, then a new agent on
// the same spool: what the old one had not had acknowledged is sent from
// its spool, the interrupted phase is rerun, and the run ends as an
// uninterrupted one.
TEST_F(Chaos, AnAgentKilledAndRestartedOnItsSpoolLosesNoSample) {
  start_smoke();
  stop("agent-r02", SIGKILL);
  ASSERT_TRUE(wait_for_line(log("kilnd", 1), "run 1: rack r02 has no agent; waiting"));
  start_agent("r02");
  ASSERT_TRUE(wait_for_line(log("kilnd", 1), "run 1 completed")) << slurp(log("kilnd", 1));
  expect_as_uninterrupted({"gemm-bf16"});
}

// Three hundred hostile connections in the middle of the run: length
// prefixes of 4 MiB, junk, and Hellos with a wrong credential, all held
// open. The run is not disturbed, kilnd stays small, and once they are gone
// a client is served.
TEST_F(Chaos, AConnectionFloodDuringARunChangesNothing) {
  start_smoke();
  const std::string huge_prefix = std::string("\x00\x40\x00\x00", 4) + std::string(1024, 'x');
  const std::string junk(2048, '\xff');
  std::vector<int> held;
  for (int i = 0; i < 300; ++i) {
    const int fd = hostile(i % 2 ? huge_prefix : junk);
    if (fd >= 0) held.push_back(fd);
  }
  EXPECT_GT(held.size(), 0u);
  ASSERT_TRUE(wait_for_line(log("kilnd", 1), "run 1 completed")) << slurp(log("kilnd", 1));
  EXPECT_LT(kilnd_peak_mib(), 256.0);
  for (const int fd : held) ::close(fd);
  const Json r = report();
  EXPECT_EQ(r["run"]["status"], "completed") << r["run"].dump(2);
  expect_as_uninterrupted({"gemm-bf16", "cooldown"});
}

}  // namespace
