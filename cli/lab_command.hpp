#pragma once
// `kiln lab`: the whole lab on one machine. Starts kilnd and one kiln-agent
// per rack of the lab file as child processes on loopback, runs a plan with
// progress, prints the verdict table, stops the children and leaves the
// database for later `kiln report`.

#include <cstdint>
#include <optional>
#include <string>

namespace kiln::cli {

struct LabOptions {
  std::string lab = "device/labs/demo.yaml";
  std::string plan = "testplans/smoke.yaml";
  std::string db = "kiln.db";
  std::string skus;  // default: <lab dir>/../skus
  std::optional<std::uint64_t> seed;
  bool gui = false;
  std::string report_format = "text";  // text | json
};

// Exit status: 0 when the run completed (whatever the verdicts), 1 on an
// error, 130 when interrupted.
int run_lab(const LabOptions& options);

}  // namespace kiln::cli
