#pragma once
// `kiln lab`: the whole lab on one machine. Starts kilnd and one kiln-agent
// per rack of the lab file as child processes on loopback, runs a plan with
// progress, prints the verdict table, stops the children and leaves the
// database for later `kiln report`. Every connection is mutual TLS: kilnd
// --init-tls writes the lab's CA and certificates into its temporary
// directory first (kiln itself generates no keys).

#include <cstdint>
#include <optional>
#include <string>

#include "reports/fail_on.hpp"

namespace kiln::cli {

struct LabOptions {
  std::string lab = "device/labs/demo.yaml";
  std::string plan = "testplans/smoke.yaml";
  std::string db = "kiln.db";
  std::string skus;  // default: <lab dir>/../skus
  std::optional<std::uint64_t> seed;
  bool gui = false;
  // Plain TCP between the lab's processes instead of mutual TLS (kiln lab
  // --plaintext: to compare, or to watch the wire).
  bool plaintext = false;
  // The simulated chips run as fast as the host allows, whatever the lab
  // file's time_scale (kiln lab --unpaced: tests, CI, benchmarks).
  bool unpaced = false;
  std::string report_format = "text";  // a name of reports::report_formats()
  reports::FailOn fail_on = reports::kDefaultFailOn;
};

// Exit status (docs/cli.md): 0 when the run completed and no chip met
// `fail_on`, 3 when one did, 1 on an error (or a run that did not
// complete), 130 when interrupted.
int run_lab(const LabOptions& options);

}  // namespace kiln::cli
