#pragma once
// The dashboard's state on the GUI thread. Owns the link to the daemon
// (network thread) and the staging between them; a 40 ms timer moves what
// was staged into the models in one batch and tells the views what changed,
// so a lab of thousands of chips costs one repaint per tick, not one per
// chip. Replies to requests are delivered to their callbacks in the same
// batch.

#include <QObject>
#include <QTimer>

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "gui/model/alarm_log.hpp"
#include "gui/model/lab_state.hpp"
#include "gui/model/live_staging.hpp"
#include "gui/model/runs_table.hpp"
#include "gui/model/schedules_table.hpp"
#include "gui/net/daemon_link.hpp"

namespace kiln::gui {

class Dashboard : public QObject {
  Q_OBJECT

 public:
  static constexpr int kRefreshMs = 40;
  using ReplyFn = std::function<void(const kiln::v1::Envelope&)>;
  using AnswerFn = std::function<void(const Result<kiln::v1::QueryReply>&)>;
  using BodyFn = std::function<void(const Result<std::string>&)>;

  explicit Dashboard(QObject* parent = nullptr);
  ~Dashboard() override;

  void connect_to(LinkConfig config);
  void disconnect_from_daemon();
  const LinkConfig& config() const { return config_; }

  // The callback runs on the GUI thread, from the refresh after the reply arrives.
  void request(kiln::v1::Envelope envelope, ReplyFn on_reply);
  // A request answered with a QueryReply (a Query, GetPlan): the reply, or
  // the daemon's ErrorReply (or the link's failure) as an Error.
  void ask(kiln::v1::Envelope envelope, AnswerFn on_answer);
  // A Query's text body.
  void query(kiln::v1::Query query, BodyFn on_body);
  void refresh_runs();
  // Every chip's lifecycle state (CHIPS query): on connecting, when a run
  // ends and every LifecycleStates::kRefreshMs.
  void refresh_lifecycle();
  static constexpr int kLifecycleSettleMs = 3000;
  // The schedules (SCHEDULES query): on connecting, when a run ends and every
  // kSchedulesRefreshMs. A daemon without them answers an error, which the
  // schedule view shows.
  void refresh_schedules();
  static constexpr int kSchedulesRefreshMs = 30000;
  // Acknowledges alarms here at once and asks the daemon to store it, which
  // tells every dashboard; if it cannot (a viewer's credential, an older
  // daemon), notice() says the acknowledgement stays on this dashboard.
  void acknowledge_alarms(const std::vector<std::uint64_t>& ids);
  void acknowledge_all_alarms();

  // Moves everything staged into the models (the timer calls it; tests and
  // the benchmark call it directly).
  void refresh();
  // The staging the network thread writes to (a synthetic feed in tests and the benchmark).
  LiveStaging& staging() { return staging_; }

  // What a run's plan tells the lab state (each step's TFLOPS peak figure);
  // the dashboard asks for the plan of every run it sees a chip in.
  void set_run_plan(const kiln::v1::RunPlan& plan);

  const LabState& lab() const { return lab_; }
  const RunsTable& runs() const { return runs_; }
  const SchedulesTable& schedules() const { return schedules_; }
  // Test and benchmark hooks: what a CHIPS / SCHEDULES answer would load.
  void load_lifecycle_json(const std::string& body);
  void load_schedules(const Result<std::string>& body);
  AlarmLog& alarms() { return alarms_; }
  const LinkState& link() const { return link_; }
  bool has_live_data() const { return live_updates_ > 0; }
  static std::int64_t local_now_ms();

 signals:
  void labUpdated();     // chip states changed (or the layout did)
  void layoutChanged();  // racks or chips appeared or disappeared
  void runsUpdated();
  void alarmsUpdated();
  void newAlarm(QString kind, QString message);
  void linkChanged();
  void lifecycleUpdated();  // chips' lifecycle states changed
  void schedulesUpdated();
  void notice(QString text);  // for the status bar: something the engineer asked for did not happen

 private:
  LiveStaging staging_;
  DaemonLink link_client_{staging_};
  LinkConfig config_;
  QTimer timer_;
  LabState lab_;
  RunsTable runs_;
  SchedulesTable schedules_;
  AlarmLog alarms_;
  QTimer slow_timer_;  // lifecycle states and schedules
  LinkState link_;
  void learn_plan(std::uint64_t run_id);
  void send_ack(kiln::v1::AckAlarm request);

  std::map<std::uint64_t, ReplyFn> callbacks_;
  std::set<std::uint64_t> plans_asked_;  // runs whose plan (the steps' peak figures) was asked for
  std::uint64_t live_updates_ = 0;
};

}  // namespace kiln::gui
