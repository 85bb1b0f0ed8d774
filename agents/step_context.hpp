#pragma once
// What a step of a phase runs with, beyond its chip: the run's state the
// chip carries from step to step, and what the phase's chips share.

#include <cstdint>
#include <stop_token>
#include <string>

namespace kiln::plan {
class PatternRegistry;
}

namespace kiln::agent {

class CollectiveRendezvous;
class TileChecks;
class VoteBoard;
class PatternFactory;

// What a chip carries from step to step within a run (DESIGN §7: counters
// are cumulative within a run). Owned by the chip's slot in the executor.
struct ChipRunState {
  bool started = false;
  std::uint64_t run_id = 0;
  std::uint64_t sdc_errors = 0;     // corrupted elements found by verification this run
  std::uint64_t memory_errors = 0;  // mismatching bits read back by memory patterns this run
  std::uint64_t data_errors = 0;    // corrupted words received in collectives this run
};

struct StepContext {
  std::uint64_t run_id = 0;
  std::string backend = "sim";  // named in "not supported by the … backend" notes
  // Where this phase's chips meet for collectives; null when the phase
  // cannot run them (no fabric, or not every chip of the rack takes part).
  CollectiveRendezvous* collective = nullptr;
  std::string no_collective_reason;
  // Where this phase's chips compare GEMM results (verify: vote); null
  // when the phase has no vote.
  VoteBoard* vote = nullptr;
  // What the executor's chips already concluded about shared tiles; null:
  // every tile is checked in full.
  TileChecks* tile_checks = nullptr;
  std::uint64_t seed = 0;  // the run's: seeds the inputs golden and vote share
  std::stop_token stop;    // the phase's: a collective stops waiting on it
  // What a step's pattern and params are checked against, and what builds
  // it; null: the built-in ones.
  const plan::PatternRegistry* registry = nullptr;
  const PatternFactory* factory = nullptr;
};

// "a; b", or whichever is not empty.
std::string join_notes(const std::string& a, const std::string& b);

}  // namespace kiln::agent
