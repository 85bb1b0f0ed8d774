// The twin and the agents of a whole simulated lab in one process, without
// the daemon: every rack's chips (device/sim) run a plan's phases under the
// agent's own PhaseExecutor, as kiln-agent runs them, and a drain thread
// stands for the daemon: it takes every batch from each rack's outbox and
// acknowledges it at once (nothing is stored). So the figure is what the
// twin and agent side can produce; `kiln lab` (tests/e2e, bench/sim/
// lab_end_to_end.sh) adds the wire and ingest.
//
//   build/<dir>/bin/lab_bench [--lab device/labs/lab-1024.yaml]
//       [--plan testplans/standard.yaml] [--racks N] [--step-seconds S]
//       [--time-scale X (default: unpaced)] [--compare]
//       [--loops fibers|threads|both]
//
// --step-seconds cuts every step to at most S simulated seconds (the plan's
// shape kept), --compare also runs each rack's chips computing every tile
// themselves (no SharedTileCache: the path before issue 12) on the same
// plan, in the same run. --loops says where each rack's chip loops run: as
// fibers of one thread per rack (the default, as kiln-agent runs simulated
// chips), a thread per chip (the path before), or both, one after the
// other in the same run. Prints one JSON object: per variant wall_s,
// chip_seconds_per_second, achieved_time_scale, the telemetry values
// (samples of one metric) and chunks sent, values_per_second, and the
// host's load average when it ran.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "agents/outbox.hpp"
#include "agents/phase_executor.hpp"
#include "device/lab.hpp"
#include "device/sim/sim_chip.hpp"
#include "device/sim/sim_fabric.hpp"
#include "testplans/loader.hpp"
#include "testplans/param_wire.hpp"
#include "testplans/pattern_registry.hpp"
#include "testplans/plan.hpp"

namespace kiln {
namespace {

using Json = nlohmann::ordered_json;

struct Options {
  std::string lab = std::string(KILN_SOURCE_DIR) + "/device/labs/lab-1024.yaml";
  std::string plan = std::string(KILN_SOURCE_DIR) + "/testplans/standard.yaml";
  int racks = 0;  // 0: all
  double step_seconds = 0;
  double time_scale = 0;
  bool compare = false;
  std::vector<agent::ChipLoops> loops{agent::ChipLoops::fibers};
};

const char* loops_name(agent::ChipLoops loops) {
  return loops == agent::ChipLoops::fibers ? "fibers" : "thread_per_chip";
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return fmt::format("{} {} {}", a, b, c);
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return text;
}

// The phases of the plan as the daemon dispatches them (RunManager::make_dispatch).
std::vector<kiln::v1::PhaseDispatch> dispatches(const plan::Plan& plan, std::uint64_t seed, double step_seconds) {
  std::map<std::uint32_t, kiln::v1::PhaseDispatch> phases;
  for (const plan::FlatStep& s : plan::flatten(plan)) {
    kiln::v1::PhaseDispatch& d = phases[s.phase_index];
    d.set_run_id(1);
    d.set_phase_index(s.phase_index);
    d.set_repeat_index(s.repeat_index);
    d.set_seed(seed);
    d.set_sample_hz(plan.sample_hz);
    auto* spec = d.add_steps();
    spec->set_step_index(s.step_index);
    spec->set_name(s.step->name);
    spec->set_pattern(s.step->pattern);
    const double duration = s.step->duration.count();
    spec->set_duration_s(step_seconds > 0 ? std::min(duration, step_seconds) : duration);
    plan::write_params(s.step->values, *spec->mutable_params());
  }
  std::vector<kiln::v1::PhaseDispatch> out;
  for (auto& [index, d] : phases) out.push_back(std::move(d));
  return out;
}

double phase_seconds(const kiln::v1::PhaseDispatch& d) {
  double longest = 0;
  for (const auto& s : d.steps()) longest = std::max(longest, s.duration_s());
  return longest;
}

struct Rack {
  std::unique_ptr<agent::Outbox> outbox;
  std::unique_ptr<agent::PhaseExecutor> executor;
  std::vector<std::string> serials;
};

Json run_variant(const device::Lab& lab, const device::SkuCatalog& catalog,
                 const std::vector<kiln::v1::PhaseDispatch>& phases, const Options& options, bool share,
                 agent::ChipLoops loops) {
  std::vector<Rack> racks;
  std::size_t chips = 0;
  for (const auto& spec : lab.racks) {
    if (options.racks > 0 && static_cast<int>(racks.size()) >= options.racks) break;
    auto made = device::make_sim_chips(lab, spec, catalog, device::SimRackOptions{share});
    if (!made) throw std::runtime_error(made.error().message);
    auto fabric = device::make_sim_fabric(spec, *made);
    if (!fabric) throw std::runtime_error(fabric.error().message);
    Rack rack;
    for (const auto& chip : *made) rack.serials.push_back(chip->identity().serial);
    chips += made->size();
    agent::OutboxLimits limits;
    rack.outbox = std::make_unique<agent::Outbox>(spec.id, 1, limits);
    agent::ChipPhaseOptions phase_options;
    phase_options.time_scale = options.time_scale;
    phase_options.loops = loops;
    rack.executor =
        std::make_unique<agent::PhaseExecutor>(std::move(*made), *rack.outbox, phase_options, std::move(*fabric));
    racks.push_back(std::move(rack));
  }

  // The daemon's stand-in: takes every batch and acknowledges it.
  std::atomic<bool> done{false};
  std::uint64_t chunks = 0, values = 0, results = 0;
  auto drain_once = [&] {
    bool any = false;
    for (auto& rack : racks) {
      while (auto batch = rack.outbox->take_batch()) {
        any = true;
        for (const auto& s : batch->samples()) values += static_cast<std::uint64_t>(s.values_size());
        chunks += static_cast<std::uint64_t>(batch->chunks_size());
        for (const auto& c : batch->chunks()) values += c.values();
        results += static_cast<std::uint64_t>(batch->results_size());
        rack.outbox->ack(batch->epoch(), batch->seq());
      }
    }
    return any;
  };
  std::thread drain([&] {
    while (!done.load()) {
      if (!drain_once()) std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });

  Json phase_walls = Json::array();
  double simulated = 0;
  const auto started = std::chrono::steady_clock::now();
  for (const auto& phase : phases) {
    const auto phase_started = std::chrono::steady_clock::now();
    for (auto& rack : racks) {
      kiln::v1::PhaseDispatch d = phase;
      for (const auto& serial : rack.serials) d.add_serials(serial);
      rack.executor->start(d);
    }
    for (auto& rack : racks) {
      if (!rack.executor->wait_idle(std::chrono::hours(24))) throw std::runtime_error("a rack never finished");
    }
    simulated += phase_seconds(phase);
    phase_walls.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - phase_started).count());
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  done = true;
  drain.join();
  drain_once();

  Json out;
  out["shared_tiles"] = share;
  out["chip_loops"] = loops_name(loops);
  out["chips"] = chips;
  out["simulated_s"] = simulated;
  out["wall_s"] = wall;
  out["chip_seconds_per_second"] = simulated * static_cast<double>(chips) / wall;
  out["achieved_time_scale"] = simulated / wall;
  out["chunks"] = chunks;
  out["values"] = values;
  out["values_per_second"] = static_cast<double>(values) / wall;
  out["results"] = results;
  out["phase_wall_s"] = phase_walls;
  return out;
}

int run(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(arg + " needs a value");
      return argv[++i];
    };
    if (arg == "--help" || arg == "-h") {
      std::cout << "lab_bench: a simulated lab's twin and agents in one process, no daemon; prints one JSON object\n"
                   "  --lab FILE          lab file (default device/labs/lab-1024.yaml)\n"
                   "  --plan FILE         test plan (default testplans/standard.yaml)\n"
                   "  --racks N           the lab's first N racks (default: all)\n"
                   "  --step-seconds S    cut every step to at most S simulated seconds\n"
                   "  --time-scale X      pace at X (default: unpaced)\n"
                   "  --compare           also run without the shared tile cache, in the same run\n"
                   "  --loops fibers|threads|both   where each rack's chip loops run (default fibers)\n";
      return 0;
    }
    if (arg == "--lab")
      options.lab = next();
    else if (arg == "--plan")
      options.plan = next();
    else if (arg == "--racks")
      options.racks = std::stoi(next());
    else if (arg == "--step-seconds")
      options.step_seconds = std::stod(next());
    else if (arg == "--time-scale")
      options.time_scale = std::stod(next());
    else if (arg == "--compare")
      options.compare = true;
    else if (arg == "--loops") {
      const std::string loops = next();
      if (loops == "fibers")
        options.loops = {agent::ChipLoops::fibers};
      else if (loops == "threads")
        options.loops = {agent::ChipLoops::thread_per_chip};
      else if (loops == "both")
        options.loops = {agent::ChipLoops::fibers, agent::ChipLoops::thread_per_chip};
      else
        throw std::runtime_error("--loops takes fibers, threads or both, not " + loops);
    } else
      throw std::runtime_error("unknown argument " + arg);
  }
  auto catalog = device::SkuCatalog::load_directory(std::string(KILN_SOURCE_DIR) + "/device/skus");
  if (!catalog) throw std::runtime_error(catalog.error().message);
  auto lab = device::load_lab_file(options.lab, *catalog);
  if (!lab) throw std::runtime_error(lab.error().message);
  plan::PatternRegistry registry;
  plan::register_builtin_patterns(registry);
  auto loaded = plan::load_plan_file(options.plan, registry);
  if (!loaded.plan) throw std::runtime_error("the plan does not load");
  const auto phases = dispatches(*loaded.plan, loaded.plan->seed.value_or(7), options.step_seconds);

  Json report;
  report["when"] = utc_now();
  report["load_average_before"] = load_average();
  report["lab"] = lab->name;
  report["plan"] = loaded.plan->name;
  report["time_scale_requested"] = options.time_scale > 0 ? Json(options.time_scale) : Json("unpaced");
  report["step_seconds_cap"] = options.step_seconds;
  report["variants"] = Json::array();
  for (const agent::ChipLoops loops : options.loops) {
    report["variants"].push_back(run_variant(*lab, *catalog, phases, options, true, loops));
    if (options.compare) report["variants"].push_back(run_variant(*lab, *catalog, phases, options, false, loops));
  }
  report["load_average_after"] = load_average();
  std::cout << report.dump(2) << "\n";
  return 0;
}

}  // namespace
}  // namespace kiln

int main(int argc, char** argv) {
  try {
    return kiln::run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "lab_bench: " << e.what() << "\n";
    return 1;
  }
}
