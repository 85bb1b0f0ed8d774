#pragma once
// The dashboard's live feed: the latest state of every chip (its last
// telemetry sample, the run and step it is in, its verdict so far), the runs'
// progress, the racks' connections and alarms (new failures, throttling,
// agents gone silent or lost). Fed by Hub as batches commit; pushed to each
// subscribed client at most max_hz times a second, as deltas against what
// that client was last sent, so thousands of chips cost a few frames.
//
// Lives on the io thread. Per batch it only overwrites each chip's latest
// values (no allocation once a chip has been seen); the encoding work is done
// by a 100 ms tick, once per subscriber and only for what changed.

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include "daemon/run_progress.hpp"
#include "daemon/session.hpp"
#include "schema/kiln.pb.h"
#include "schema/store.hpp"

namespace kiln::daemon {

class LiveFeed {
 public:
  // RunManager::progress: the live state of a queued or running run, nullopt once it ended.
  using ProgressFn = std::function<std::optional<RunProgress>(std::uint64_t run_id)>;
  // What the store knows of a run that the feed shows: each chip's verdict
  // so far (worst judged step, or the run's final chip verdict once decided)
  // and the steps' names by index.
  struct RunFacts {
    std::map<std::string, std::string> verdicts;
    std::map<std::uint32_t, std::string> step_names;
  };
  // Reads a run's facts off the io thread and calls `done` back on it.
  using FactsFn = std::function<void(std::uint64_t run_id, std::function<void(RunFacts)> done)>;

  static constexpr double kDefaultHz = 4.0;
  static constexpr std::size_t kChipsPerFrame = 512;
  static constexpr std::size_t kAlarmsKept = 500;
  static constexpr std::chrono::seconds kSilentAfter{5};

  LiveFeed(boost::asio::any_io_executor executor, ProgressFn progress, FactsFn facts);
  ~LiveFeed();
  LiveFeed(const LiveFeed&) = delete;
  LiveFeed& operator=(const LiveFeed&) = delete;

  void subscribe(const std::shared_ptr<Session>& session, double max_hz);
  void on_rack_registered(const kiln::v1::RegisterRack& registration);
  void on_rack_lost(const std::string& rack);
  // `chunks`: what the batch's telemetry chunks held (their latest values
  // become the chips' latest sample).
  void on_batch(const kiln::v1::AgentBatch& batch, const std::vector<store::ChunkDigest>& chunks = {});
  void on_run_submitted(std::uint64_t run_id);
  void stop();

  // Alarm acknowledgements (live_feed_acks.cpp; daemon/alarm_acks.* asks).
  // Marks the alarms named (or, with `all`, every one not acknowledged yet)
  // acknowledged by `by` at `unix_ms`, for every subscriber's next update
  // and every later snapshot. An alarm acknowledged already keeps its
  // acknowledgement.
  struct Acknowledged {
    std::vector<kiln::v1::Alarm> marked;  // as they are now
    std::vector<std::uint64_t> already;   // acknowledged before
    std::vector<std::uint64_t> unknown;   // not (or no longer) kept, or raised at another time
  };
  Acknowledged acknowledge(const kiln::v1::AckAlarm& request, const std::string& by, std::int64_t unix_ms);
  // Takes back acknowledge()'s marks whose storing failed.
  void unacknowledge(const std::vector<kiln::v1::Alarm>& marked);

  std::size_t subscribers() const { return subscribers_.size(); }

  // What the feed knows now, for /metrics (daemon/prometheus_text.hpp):
  // each chip's latest state, the runs that are queued or running, the racks.
  struct Snapshot {
    std::vector<kiln::v1::ChipLive> chips;  // sorted by serial
    std::vector<std::string> metric_names;  // ChipLive::metric_index → name
    std::vector<kiln::v1::RunLive> runs;    // by run id
    std::vector<kiln::v1::RackLive> racks;  // by rack id
    std::size_t subscribers = 0;
  };
  Snapshot snapshot() const;

 private:
  struct Chip {
    kiln::v1::ChipLive live;  // metric_index/value hold the latest sample
    std::uint64_t version = 0;
    std::uint64_t registered_version = 0;  // when its peaks last changed
    bool throttled = false;
  };
  struct Run {
    kiln::v1::RunLive live;
    std::uint64_t version = 0;
    std::uint32_t verdicts_phase = 0;                                // phase whose verdicts were last loaded
    std::optional<std::chrono::steady_clock::time_point> reload_at;  // the writer may not have committed yet
    std::map<std::string, std::uint64_t> alarms;  // serial → the id of its failure alarm in this run
    std::set<std::string> concerned;              // chips shown failed or over a limit now
    std::map<std::uint32_t, std::string> step_names;
    bool names_asked = false;
  };
  struct Rack {
    kiln::v1::RackLive live;
    std::uint64_t version = 0;
    std::chrono::steady_clock::time_point last_batch;
    bool busy = false;    // has sent samples of a run that is still running
    bool silent = false;  // a silence alarm is out
  };
  // A chip's latest sample is now at (run, step, t): its state, step name,
  // and its values cleared for the caller to fill.
  Chip& sampled(const std::string& rack, const std::string& serial, std::uint64_t run_id, std::uint32_t step_index,
                double t_s, std::int64_t wall_unix_ms);
  // Alarms once when a chip starts throttling.
  void throttling(Chip& c, bool throttled, const std::string& serial, const std::string& rack, std::uint64_t run_id);
  struct StoredAlarm {
    kiln::v1::Alarm alarm;
    std::uint64_t version = 0;
  };
  struct Subscriber {
    std::weak_ptr<Session> session;
    std::chrono::milliseconds interval{250};
    std::chrono::steady_clock::time_point next_due;
    std::uint64_t sent_version = 0;
    bool primed = false;  // false: the next update is a snapshot
  };

  void arm();
  void tick();
  void poll_runs(std::chrono::steady_clock::time_point now);
  void watch_silence(std::chrono::steady_clock::time_point now);
  void load_facts(std::uint64_t run_id);
  void apply_facts(std::uint64_t run_id, const RunFacts& facts);
  void send_update(Subscriber& subscriber, Session& session);
  std::uint64_t raise(kiln::v1::AlarmKind kind, std::string message, const std::string& serial, const std::string& rack,
                      std::uint64_t run_id, std::string step);
  // A chip's failure alarm in `run`: raised the first time, then updated in
  // place (or cleared) as what the judge says of the chip changes.
  void alarm_failure(Run& run, std::uint64_t run_id, const Chip& chip, const std::string& message, bool cleared);
  // The concerns of a running run's progress onto its chips and alarms.
  void show_concerns(Run& run, std::uint64_t run_id, const RunProgress& progress);
  Chip& chip(const std::string& serial);
  std::uint32_t metric_index(const std::string& name);
  std::uint64_t bump() { return ++version_; }

  boost::asio::any_io_executor executor_;
  boost::asio::steady_timer timer_;
  ProgressFn progress_;
  FactsFn facts_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // guards verdict callbacks after stop
  std::uint64_t version_ = 0;
  std::uint64_t next_alarm_id_ = 1;
  std::unordered_map<std::string, Chip> chips_;
  std::map<std::uint64_t, Run> runs_;
  std::map<std::string, Rack> racks_;
  std::deque<StoredAlarm> alarms_;
  std::vector<std::string> metric_names_;
  std::unordered_map<std::string, std::uint32_t> metric_ids_;
  std::vector<Subscriber> subscribers_;
  bool stopped_ = false;
};

}  // namespace kiln::daemon
