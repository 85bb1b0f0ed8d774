#include "daemon/query_answers.hpp"

#include <nlohmann/json.hpp>

#include "reports/answer.hpp"
#include "reports/typed_replies.hpp"
#include "schema/store.hpp"

namespace kiln::daemon {
namespace {

// The RUN document with the live progress in it, as `kiln run show --json` prints it.
std::string with_progress(const std::string& run_json, const RunProgress& live) {
  auto merged = nlohmann::ordered_json::parse(run_json, nullptr, false);
  if (merged.is_discarded()) return run_json;
  merged["progress"] = progress_json(live);
  return merged.dump(2);
}

}  // namespace

void add_live_progress(const RunProgress& p, kiln::v1::RunProgress& m) {
  m.set_live(true);
  m.set_state(p.state == RunProgress::State::queued ? kiln::v1::LIVE_RUN_QUEUED : kiln::v1::LIVE_RUN_RUNNING);
  m.set_queue_position(p.queue_position);
  m.set_waiting(p.waiting);
  m.set_phase(p.phase);
  m.set_phases(p.phases);
  m.set_step(p.step);
  m.set_elapsed_s(p.elapsed_s);
  m.set_total_s(p.total_s);
  for (const auto& serial : p.failing()) m.add_failing(serial);
  for (const auto& serial : p.over_limit()) m.add_over_limit(serial);
  for (const auto& rack : p.lost_racks) m.add_lost_racks(rack);
}

Result<kiln::v1::QueryReply> answer_from_store(const std::string& db_path, const kiln::v1::Query& query,
                                               const std::optional<RunProgress>& live,
                                               const std::map<std::uint64_t, std::string>& waiting) {
  KILN_TRY_ASSIGN(auto reader, store::Reader::open(db_path));
  KILN_TRY_ASSIGN(kiln::v1::QueryReply reply, reports::answer_query(*reader, query));
  if (live && query.kind() == kiln::v1::Query::RUN) {
    if (reply.has_run_progress()) {
      add_live_progress(*live, *reply.mutable_run_progress());
    } else {
      reply.set_body(with_progress(reply.body(), *live));
    }
  }
  if (!waiting.empty() && query.kind() == kiln::v1::Query::RUNS && query.answer() == kiln::v1::Query::ANSWER_TEXT) {
    auto runs = nlohmann::ordered_json::parse(reply.body(), nullptr, false);
    if (!runs.is_discarded() && runs.contains("runs")) {
      for (auto& run : runs["runs"]) {
        const auto id = run.value("id", std::uint64_t{0});
        if (auto why = waiting.find(id); why != waiting.end() && run.value("status", "") == "queued") {
          run["waiting"] = why->second;
        }
      }
      reply.set_body(runs.dump(2));
    }
  }
  return reply;
}

Result<kiln::v1::QueryReply> plan_from_store(const std::string& db_path, std::uint64_t run_id) {
  KILN_TRY_ASSIGN(auto reader, store::Reader::open(db_path));
  return reports::run_plan(*reader, run_id).transform([](kiln::v1::RunPlan plan) {
    kiln::v1::QueryReply reply;
    *reply.mutable_run_plan() = std::move(plan);
    return reply;
  });
}

}  // namespace kiln::daemon
