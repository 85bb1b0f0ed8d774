#include "daemon/lifecycle_keeper.hpp"

#include <fmt/ranges.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include <boost/asio/post.hpp>

#include "core/clock.hpp"

namespace kiln::daemon {

LifecycleKeeper::LifecycleKeeper(boost::asio::any_io_executor io, boost::asio::any_io_executor reads,
                                 IngestWriter& writer, std::string db_path, lifecycle::LifecyclePolicy policy,
                                 Submit submit)
    : io_(std::move(io)),
      reads_(std::move(reads)),
      writer_(writer),
      db_path_(std::move(db_path)),
      policy_(std::move(policy)),
      submit_(std::move(submit)) {}

LifecycleKeeper::~LifecycleKeeper() = default;

void LifecycleKeeper::on_run_recorded(std::uint64_t run_id) {
  pending_.push_back(run_id);
  apply_next();
}

void LifecycleKeeper::apply_next() {
  if (applying_ || pending_.empty()) return;
  applying_ = true;
  const std::uint64_t run_id = pending_.front();
  pending_.pop_front();
  auto fail = [this, run_id](const Error& error) {
    spdlog::error("run {}: lifecycle not applied: {}", run_id, error.message);
    applying_ = false;
    apply_next();
  };
  boost::asio::post(reads_, [this, run_id, fail] {
    auto facts = store::Reader::open(db_path_).and_then(
        [run_id](std::unique_ptr<store::Reader> reader) { return read_run_facts(*reader, run_id); });
    boost::asio::post(io_, [this, fail, facts = std::make_shared<Result<RunFacts>>(std::move(facts))] {
      if (!*facts) return fail(facts->error());
      auto result = std::make_shared<AppliedRun>();
      writer_.submit(
          [this, facts, result](store::Writer& w) -> Status {
            KILN_TRY_ASSIGN(*result, apply_run(w, facts->value(), policy_, unix_ms_now()));
            return {};
          },
          [this, fail, result](const Status& status) {
            if (!status) return fail(status.error());
            applied(*result);
            applying_ = false;
            apply_next();
          });
    });
  });
}

void LifecycleKeeper::catch_up() {
  applying_ = true;  // runs recorded meanwhile wait behind these
  boost::asio::post(reads_, [this] {
    auto runs = store::Reader::open(db_path_).and_then(
        [](std::unique_ptr<store::Reader> reader) { return runs_to_catch_up(*reader); });
    boost::asio::post(io_, [this, runs = std::make_shared<decltype(runs)>(std::move(runs))] {
      if (!*runs) {
        spdlog::error("lifecycle: cannot tell which runs still need it: {}", runs->error().message);
      } else if (!(*runs)->empty()) {
        spdlog::info("lifecycle: applying {} run(s) recorded before the last stop", (*runs)->size());
        pending_.insert(pending_.begin(), (*runs)->begin(), (*runs)->end());
      }
      applying_ = false;
      apply_next();
    });
  });
}

void LifecycleKeeper::applied(const AppliedRun& applied) {
  if (!applied.breaker.empty()) spdlog::error("CIRCUIT BREAKER: {}", applied.breaker);
  for (const auto& t : applied.transitions) {
    spdlog::info("chip {}: {} -> {} ({})", t.serial, t.from_state, t.to_state, t.reason);
  }
  for (const auto& note : applied.notes) spdlog::info("run {} lifecycle: {}", applied.run_id, note);
  for (const auto& plan : applied.retests) submit_retest(plan);
  refresh_counts();
  if (on_applied_) on_applied_(applied.run_id);
}

void LifecycleKeeper::submit_retest(const RetestPlan& plan) {
  kiln::v1::SubmitRun request;
  request.set_plan_text(plan.plan_text);
  request.set_plan_path(plan.plan_path);
  request.add_racks(plan.rack);
  request.set_seed(plan.seed);
  submit_(request, [this, plan](kiln::v1::SubmitRunReply reply) {
    if (reply.run_id() == 0) {
      std::string why = reply.error();
      for (const auto& d : reply.diagnostics()) why += (why.empty() ? "" : "; ") + d.message();
      spdlog::error("retest of {} after run {} on {} not queued: {}", fmt::join(plan.serials, ", "), plan.episode_run,
                    plan.rack, why);
      return;
    }
    const std::uint64_t id = reply.run_id();
    spdlog::info("run {}: {} of {} on {} (seed {})", id, plan.why, fmt::join(plan.serials, ", "), plan.rack, plan.seed);
    // Written before the run can end (writer jobs run in order): when it is
    // recorded, these say which of its chips it retests.
    writer_.submit(
        [id, plan](store::Writer& w) -> Status {
          for (const auto& serial : plan.serials) {
            store::EventRow e;
            e.run_id = id;
            e.serial = serial;
            e.kind = "lifecycle_retest";
            e.actor = kLifecycleActor;
            e.detail_json =
                nlohmann::json{{"episode_run", plan.episode_run}, {"seed", plan.seed}, {"why", plan.why}}.dump();
            e.unix_ms = unix_ms_now();
            KILN_TRY(w.add_event(e));
          }
          return {};
        },
        [id](const Status& s) {
          if (!s) spdlog::error("run {}: its retests could not be recorded: {}", id, s.error().message);
        });
  });
}

void LifecycleKeeper::set_state(const kiln::v1::SetChipState& request, const std::string& actor,
                                std::function<void(Result<std::string>)> done) {
  auto row = std::make_shared<store::TransitionRow>();
  writer_.submit(
      [request, actor, row](store::Writer& w) -> Status {
        KILN_TRY_ASSIGN(*row, apply_person_state(w, request.serial(), request.state(), actor, request.reason(),
                                                 request.hand_back(), unix_ms_now()));
        return {};
      },
      [this, row, request, done = std::move(done)](const Status& status) {
        if (!status) {
          done(status.error());
          return;
        }
        spdlog::info("chip {}: {} -> {} set by {} ({}){}", row->serial, row->from_state, row->to_state, row->actor,
                     row->reason, request.hand_back() ? "" : ": sticky");
        refresh_counts();
        done(nlohmann::ordered_json{{"serial", row->serial},
                                    {"from", row->from_state},
                                    {"to", row->to_state},
                                    {"actor", row->actor},
                                    {"reason", row->reason},
                                    {"sticky", !request.hand_back()}}
                 .dump(2));
      });
}

void LifecycleKeeper::refresh_counts() {
  boost::asio::post(reads_, [this] {
    auto counts = std::make_shared<Counts>();
    const Status read = [&]() -> Status {
      KILN_TRY_ASSIGN(auto reader, store::Reader::open(db_path_));
      KILN_TRY_ASSIGN(auto states, reader->lifecycle_states());
      KILN_TRY_ASSIGN(auto chips, reader->chips());
      std::map<std::string, std::string> sku;
      for (const auto& c : chips) sku[c.serial] = c.sku;
      for (const auto& s : states) ++(*counts)[{s.state, sku[s.serial]}];
      return {};
    }();
    if (!read) {
      spdlog::warn("lifecycle counts not read: {}", read.error().message);
      return;
    }
    boost::asio::post(io_, [this, counts] { counts_ = std::move(*counts); });
  });
}

}  // namespace kiln::daemon
