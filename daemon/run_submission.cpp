// RunManager: turning a SubmitRun into a validated, persisted, queued run.
#include <algorithm>
#include <random>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "core/clock.hpp"
#include "daemon/run_manager.hpp"
#include "daemon/sha256.hpp"
#include "testplans/loader.hpp"

namespace kiln::daemon {

Result<std::unique_ptr<Run>> RunManager::prepare(const kiln::v1::SubmitRun& request, kiln::v1::SubmitRunReply& reply) {
  // The path is the submitter's text, kept with the run and printed in reports.
  constexpr std::size_t kMaxPlanPathBytes = 4096;
  const std::string& given = request.plan_path();
  if (given.size() > kMaxPlanPathBytes ||
      std::any_of(given.begin(), given.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20; })) {
    return make_error(ErrorCode::invalid_argument, "plan_path must be at most {} bytes with no control characters",
                      kMaxPlanPathBytes);
  }
  const std::string file = given.empty() ? "plan" : given;
  plan::LoadResult loaded = plan::load_plan(request.plan_text(), file, registry_);
  if (!loaded.plan) {
    for (const auto& d : loaded.diagnostics) {
      auto* out = reply.add_diagnostics();
      out->set_file(d.file);
      out->set_line(d.mark.line);
      out->set_column(d.mark.column);
      out->set_message(d.message);
    }
    return make_error(ErrorCode::invalid_argument, "the plan has {} error(s)", loaded.diagnostics.size());
  }

  auto run = std::make_unique<Run>();
  run->plan = std::make_unique<plan::Plan>(std::move(*loaded.plan));
  const plan::Plan& p = *run->plan;

  // Chips: the request's SKU (a schedule's), else the plan's, else all.
  const std::optional<std::string> sku = request.has_sku() ? std::optional<std::string>(request.sku()) : p.targets.sku;
  // Racks: the request's, else the plan's targets; each must be connected now.
  std::vector<std::string> wanted(request.racks().begin(), request.racks().end());
  if (wanted.empty()) wanted = p.targets.all_racks ? context_.agents.racks() : p.targets.racks;
  if (wanted.empty()) return make_error(ErrorCode::unavailable, "no racks are connected");
  std::set<std::string> seen;
  for (const auto& rack : wanted) {
    if (!seen.insert(rack).second) continue;
    const ConnectedRack* connected = context_.agents.find(rack);
    if (connected == nullptr) {
      return make_error(
          ErrorCode::unavailable, "rack '{}' is not connected (connected: {})", rack,
          context_.agents.racks().empty() ? "none" : fmt::format("{}", fmt::join(context_.agents.racks(), ", ")));
    }
    run->racks.push_back(rack);
    for (const auto& chip : connected->registration.chips()) {
      if (sku && chip.sku() != *sku) continue;
      RunChip c{chip.serial(), rack, chip.slot(), chip.sku(), {chip.peaks().begin(), chip.peaks().end()}};
      run->chips.push_back(std::move(c));
    }
  }
  if (run->chips.empty()) {
    return make_error(ErrorCode::unavailable, "no chips to test on racks {}{}", fmt::join(run->racks, ", "),
                      sku ? fmt::format(" with sku {}", *sku) : "");
  }

  if (request.has_seed()) {
    run->seed = request.seed();
  } else if (p.seed) {
    run->seed = *p.seed;
  } else {
    std::random_device entropy;
    run->seed = (static_cast<std::uint64_t>(entropy()) << 32 | entropy()) & 0x7fffffffffffffffULL;
  }
  run->steps = plan::flatten(p);
  index_phases(*run);
  // The fair queue's terms (docs/scheduling.md), bounded.
  constexpr std::int32_t kMaxPriority = 1000;
  constexpr std::uint32_t kMaxWaitS = 30 * 24 * 3600;
  if (request.priority() < -kMaxPriority || request.priority() > kMaxPriority) {
    return make_error(ErrorCode::invalid_argument, "priority must be from {} to {}", -kMaxPriority, kMaxPriority);
  }
  run->priority = request.priority();
  for (const auto& [given, name, out] :
       {std::tuple{request.has_queue_timeout_s(), "queue_timeout_s", &run->queue_timeout_s},
        std::tuple{request.has_max_wall_s(), "max_wall_s", &run->max_wall_s}}) {
    if (!given) continue;
    const std::uint32_t value =
        std::string_view(name) == "max_wall_s" ? request.max_wall_s() : request.queue_timeout_s();
    if (value == 0 || value > kMaxWaitS) {
      return make_error(ErrorCode::invalid_argument, "{} must be from 1 s to 30 days", name);
    }
    *out = value;
  }
  return run;
}

void RunManager::submit(const kiln::v1::SubmitRun& request, SubmitReply reply, const std::string& actor,
                        std::optional<store::ScheduleFireRow> fire) {
  kiln::v1::SubmitRunReply answer;
  auto prepared = prepare(request, answer);
  if (!prepared) {
    if (answer.diagnostics_size() == 0) answer.set_error(prepared.error().message);
    reply(std::move(answer));
    return;
  }
  if (request.validate_only()) {
    reply(std::move(answer));
    return;
  }
  std::shared_ptr<Run> run(std::move(prepared).value().release());

  store::NewRun row;
  row.plan_name = run->plan->name;
  row.plan_text = run->plan->text;
  row.plan_sha256 = sha256_hex(run->plan->text);
  row.plan_path = request.plan_path();
  row.seed = run->seed;
  row.racks = run->racks;
  row.sample_hz = run->plan->sample_hz;
  row.submitted_unix_ms = now_ms();
  row.priority = run->priority;
  row.queue_timeout_s = run->queue_timeout_s;
  row.max_wall_s = run->max_wall_s;
  run->queued_unix_ms = row.submitted_unix_ms;
  run->submitted_by = actor;
  if (const ConnectedRack* first = context_.agents.find(run->racks.front())) row.lab = first->registration.lab();
  for (const auto& s : run->steps) {
    row.steps.push_back(store::StepRow{s.step_index, s.phase_index, s.repeat_index, s.step->name, s.step->pattern,
                                       s.step->duration.count(), plan::params_to_json(*s.step),
                                       plan::limits_to_json(*s.step)});
  }
  std::vector<store::RunChipRow> chips;
  for (const auto& c : run->chips) chips.push_back(store::RunChipRow{c.serial, c.rack, c.slot, c.sku, ""});

  auto run_id = std::make_shared<std::uint64_t>(0);
  context_.writer.submit(
      [row = std::move(row), chips = std::move(chips), run_id, fire = std::move(fire)](store::Writer& w) -> Status {
        KILN_TRY_ASSIGN(*run_id, w.create_run(row));
        KILN_TRY(w.add_run_chips(*run_id, chips));
        if (!fire) return {};
        store::ScheduleFireRow submitted = *fire;
        submitted.run_id = *run_id;
        return w.record_schedule_fire(submitted);
      },
      [this, run, run_id, reply = std::move(reply)](const Status& status) mutable {
        kiln::v1::SubmitRunReply answer;
        if (!status) {
          answer.set_error(fmt::format("could not record the run: {}", status.error().message));
          reply(std::move(answer));
          return;
        }
        run->id = *run_id;
        answer.set_run_id(run->id);
        reply(std::move(answer));
        spdlog::info("run {} queued: plan {} seed {} on {} ({} chips)", run->id, run->plan->name, run->seed,
                     fmt::join(run->racks, ","), run->chips.size());
        waiting_.push_back(std::make_unique<Run>(std::move(*run)));
        schedule();
      });
}

}  // namespace kiln::daemon
