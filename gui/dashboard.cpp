#include "gui/dashboard.hpp"

#include "gui/model/chip_series.hpp"
#include "metrics/catalog.hpp"
#include "schema/enums.hpp"

#include <algorithm>
#include <chrono>

namespace kiln::gui {

Dashboard::Dashboard(QObject* parent) : QObject(parent) {
  timer_.setInterval(kRefreshMs);
  QObject::connect(&timer_, &QTimer::timeout, this, &Dashboard::refresh);
  timer_.start();
  slow_timer_.setInterval(static_cast<int>(std::min<std::int64_t>(LifecycleStates::kRefreshMs, kSchedulesRefreshMs)));
  QObject::connect(&slow_timer_, &QTimer::timeout, this, [this] {
    if (link_.phase != LinkPhase::connected) return;
    refresh_lifecycle();
    refresh_schedules();
  });
  slow_timer_.start();
}

Dashboard::~Dashboard() { link_client_.stop(); }

std::int64_t Dashboard::local_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void Dashboard::connect_to(LinkConfig config) {
  config_ = config;
  link_client_.start(std::move(config));
}

void Dashboard::disconnect_from_daemon() { link_client_.stop(); }

void Dashboard::request(kiln::v1::Envelope envelope, ReplyFn on_reply) {
  const std::uint64_t id = link_client_.request(std::move(envelope));
  callbacks_[id] = std::move(on_reply);
}

void Dashboard::ask(kiln::v1::Envelope envelope, AnswerFn on_answer) {
  request(std::move(envelope), [on_answer = std::move(on_answer)](const kiln::v1::Envelope& reply) {
    if (reply.has_query_reply()) {
      on_answer(reply.query_reply());
    } else if (reply.has_error_reply()) {
      on_answer(Error{ErrorCode::unavailable, reply.error_reply().code() + ": " + reply.error_reply().message()});
    } else {
      on_answer(Error{ErrorCode::protocol, "unexpected reply"});
    }
  });
}

void Dashboard::query(kiln::v1::Query query, BodyFn on_body) {
  kiln::v1::Envelope envelope;
  *envelope.mutable_query() = std::move(query);
  ask(std::move(envelope), [on_body = std::move(on_body)](const Result<kiln::v1::QueryReply>& reply) {
    on_body(reply.transform([](const kiln::v1::QueryReply& r) { return r.body(); }));
  });
}

void Dashboard::refresh_runs() {
  kiln::v1::Query q;
  q.set_kind(kiln::v1::Query::RUNS);
  query(q, [this](const Result<std::string>& body) {
    if (!body) return;
    if (auto changed = runs_.load_runs_json(*body)) emit runsUpdated();
  });
}

void Dashboard::refresh_lifecycle() {
  kiln::v1::Query q;
  q.set_kind(kiln::v1::Query::CHIPS);
  query(q, [this](const Result<std::string>& body) {
    if (body) load_lifecycle_json(*body);
  });
}

void Dashboard::load_lifecycle_json(const std::string& body) {
  auto changed = lab_.load_lifecycle_json(body);
  if (changed && *changed) emit lifecycleUpdated();
}

void Dashboard::refresh_schedules() {
  kiln::v1::Query q;
  q.set_kind(kiln::v1::Query::SCHEDULES);
  query(q, [this](const Result<std::string>& body) { load_schedules(body); });
}

void Dashboard::load_schedules(const Result<std::string>& body) {
  if (!body) {
    // An older daemon answers "unknown query": said quietly in the view, nothing else.
    schedules_.set_unavailable("schedules: not available from this daemon (" + body.error().message + ")");
    emit schedulesUpdated();
    return;
  }
  auto changed = schedules_.load_json(*body);
  if (!changed) {
    schedules_.set_unavailable("schedules: " + changed.error().message);
    emit schedulesUpdated();
  } else if (*changed) {
    emit schedulesUpdated();
  }
}

void Dashboard::acknowledge_alarms(const std::vector<std::uint64_t>& ids) {
  std::vector<std::uint64_t> fresh;
  for (const std::uint64_t id : ids) {
    if (alarms_.acknowledge(id)) fresh.push_back(id);
  }
  if (fresh.empty()) return;
  emit alarmsUpdated();
  send_ack(alarms_.ack_request(fresh));
}

void Dashboard::acknowledge_all_alarms() {
  if (alarms_.acknowledge_all() == 0) return;
  emit alarmsUpdated();
  kiln::v1::AckAlarm all;
  all.set_all(true);
  send_ack(std::move(all));
}

void Dashboard::send_ack(kiln::v1::AckAlarm request) {
  kiln::v1::Envelope envelope;
  *envelope.mutable_ack_alarm() = std::move(request);
  ask(std::move(envelope), [this](const Result<kiln::v1::QueryReply>& reply) {
    if (!reply)
      emit notice(tr("Acknowledged on this dashboard only: %1").arg(QString::fromStdString(reply.error().message)));
  });
}

// The run's plan says each step's dtype, so TFLOPS are a percentage of the
// right peak. Asked once per run; what was not answered is asked again
// when the link comes back up.
void Dashboard::learn_plan(std::uint64_t run_id) {
  plans_asked_.insert(run_id);
  kiln::v1::Envelope get_plan;
  get_plan.mutable_get_plan()->set_run_id(run_id);
  ask(get_plan, [this, run_id](const Result<kiln::v1::QueryReply>& reply) {
    if (reply && reply->has_run_plan() && reply->run_plan().run_id() == run_id) set_run_plan(reply->run_plan());
  });
}

void Dashboard::set_run_plan(const kiln::v1::RunPlan& plan) {
  plans_asked_.insert(plan.run_id());
  lab_.set_tflops_peak_keys(plan.run_id(), step_peak_keys(plan, metrics::kTflops.str()));
  emit labUpdated();
}

void Dashboard::refresh() {
  Staged staged = staging_.take();
  if (staged.empty()) return;
  const std::int64_t now = local_now_ms();
  if (staged.link) {
    const bool came_up = staged.link->phase == LinkPhase::connected && link_.phase != LinkPhase::connected;
    link_ = *staged.link;
    emit linkChanged();
    if (came_up) {
      std::erase_if(plans_asked_, [this](std::uint64_t run) { return !lab_.knows_plan(run); });
      refresh_runs();
      refresh_lifecycle();
      refresh_schedules();
    }
  }
  bool chips = false, runs = false, alarms = false, reread_runs = false;
  for (const auto& update : staged.updates) {
    ++live_updates_;
    chips = chips || update.chips_size() > 0 || update.racks_size() > 0;
    lab_.apply(update, now);
    std::uint64_t seen = 0;  // chips of one run come in a row: one look-up per run, not per chip
    for (const auto& chip : update.chips()) {
      if (chip.run_id() == seen) continue;
      seen = chip.run_id();
      if (seen != 0 && !plans_asked_.count(seen)) learn_plan(seen);
    }
    for (const auto& run : update.runs()) {
      reread_runs = runs_.apply(run, now) || reread_runs;
      runs = true;
    }
    for (const auto& alarm : update.alarms()) {
      if (!alarms_.add(alarm)) continue;
      alarms = true;
      if (!update.full())
        emit newAlarm(QString::fromStdString(std::string(wire::to_string(alarm.kind()))),
                      QString::fromStdString(alarm.message()));
    }
  }
  staging_.give_back(std::move(staged.updates));
  if (lab_.take_layout_changed()) emit layoutChanged();
  if (chips) emit labUpdated();
  if (runs) emit runsUpdated();
  if (alarms) emit alarmsUpdated();
  if (reread_runs) {
    // A run appeared or ended: its chips' lifecycle may have moved, a schedule may have fired.
    refresh_runs();
    refresh_lifecycle();
    refresh_schedules();
    // The daemon applies its lifecycle policy once the run's end is stored: ask again when it has.
    QTimer::singleShot(kLifecycleSettleMs, this, [this] { refresh_lifecycle(); });
  }
  for (auto& reply : staged.replies) {
    auto it = callbacks_.find(reply.request_id);
    if (it == callbacks_.end()) continue;
    ReplyFn callback = std::move(it->second);
    callbacks_.erase(it);
    callback(reply.envelope);
  }
}

}  // namespace kiln::gui
