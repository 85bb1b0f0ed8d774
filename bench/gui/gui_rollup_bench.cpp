// Opening one chip's chart of an 8-hour run (issue 12: "a chart of one
// chip's 8-hour run opens in under 200 ms"). A store is built through the
// real store writer: one chip, two 4-hour steps at 10 Hz, 19 metrics
// (5.5 M values), sent as the agents send them (TelemetryChunker chunks).
// Then the chip view is opened offscreen, its requests answered from that
// store as kilnd answers them (a fresh read-only store connection per
// query, reports::answer_query, the reply encoded to bytes and decoded
// again), and timed until its first paint (a synchronous grab of the view):
//
//   rollups   the whole run from the stored roll-ups (Query ROLLUPS)
//   raw       the old path: ROLLUPS refused as by an older daemon, so the
//             whole run's raw values (Query TELEMETRY), capped per metric
//   zoomed    a 5-minute span of the roll-up view: its raw values only
//             (TELEMETRY with a time window)
//
// Medians over --runs runs (default 7). Prints JSON. With --screenshots
// DIR, also writes DIR/dashboard-chip-rollups.png and
// DIR/dashboard-chip-zoomed.png.
//
//   QT_QPA_PLATFORM=offscreen build/default/bin/gui_rollup_bench [--runs N] [--screenshots docs]

#include <QApplication>
#include <QPixmap>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "agents/telemetry_chunker.hpp"
#include "gui/dashboard.hpp"
#include "gui/widgets/chip_view.hpp"
#include "gui/widgets/metric_chart.hpp"
#include "reports/answer.hpp"
#include "reports/typed_replies.hpp"
#include "schema/store.hpp"

namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kSerial = "TRN-0042";
constexpr double kStepS = 4 * 3600.0;
constexpr int kHz = 10;

double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

// The run: gemm 4 h then hbm 4 h, every value through Writer::ingest_batch.
std::uint64_t build_store(const std::string& path, std::uint64_t& values) {
  using namespace kiln;
  auto writer = store::Writer::open(path);
  if (!writer) throw std::runtime_error(writer.error().message);
  kiln::v1::RegisterRack rack;
  rack.set_rack("r01");
  rack.set_lab("bench");
  rack.set_backend("sim");
  rack.set_topology("ring");
  rack.set_epoch(1);
  auto* chip = rack.add_chips();
  chip->set_serial(kSerial);
  chip->set_slot(2);
  chip->set_sku("trn2-sim");
  store::NewRun run;
  run.plan_name = "nightly-burnin";
  run.plan_sha256 = std::string(64, 'b');
  run.plan_text = "plan: nightly-burnin";
  run.racks = {"r01"};
  run.steps.push_back({0, 0, 0, "gemm-bf16", "gemm", kStepS, R"({"dtype":"bf16"})",
                       R"({"temperature_c":{"max":95,"marginal_max":90},"power_w":{"max":720}})"});
  run.steps.push_back({1, 1, 0, "hbm-stream", "hbm", kStepS, "{}",
                       R"({"temperature_c":{"max":95,"marginal_max":90},"hbm_gbps":{"min":2000}})"});
  if (!(*writer)->upsert_rack(rack, 0)) throw std::runtime_error("upsert_rack");
  const auto run_id = (*writer)->create_run(run);
  if (!run_id || !(*writer)->add_run_chips(*run_id, {{kSerial, "r01", 2, "trn2-sim", ""}})) {
    throw std::runtime_error("create_run");
  }
  std::mt19937_64 random(42);
  std::normal_distribution<double> unit(0, 1);
  double temp = 30, hbm_temp = 30, ce = 0, crc = 0;
  std::uint64_t seq = 0;
  const std::int64_t wall0 = 1'790'000'000'000;
  for (std::uint32_t step = 0; step < 2; ++step) {
    agent::TelemetryChunker chunker(kSerial, *run_id, step);
    const char* names[] = {
        "temperature_c", "hbm_temperature_c", "power_w",          "clock_mhz", "voltage_mv", "utilization",
        "tflops",        "hbm_gbps",          "throttled",        "hbm_ce",    "hbm_ue",     "link0_gbps",
        "link1_gbps",    "link0_crc_errors",  "link1_crc_errors", "link0_up",  "link1_up",   "memory_errors",
        "sdc_errors"};
    std::vector<std::uint32_t> slot;
    for (const char* n : names) slot.push_back(chunker.metric(n));
    auto send = [&](bool last) {
      kiln::v1::AgentBatch batch;
      batch.set_rack("r01");
      batch.set_epoch(1);
      batch.set_seq(++seq);
      if (chunker.values() > 0) *batch.add_chunks() = chunker.take();
      if (last) {
        auto* result = batch.add_results();
        result->set_run_id(*run_id);
        result->set_step_index(step);
        result->set_serial(kSerial);
        result->set_completed(true);
      }
      if (!(*writer)->ingest_batch(batch)) throw std::runtime_error("ingest_batch");
    };
    const int samples = static_cast<int>(kStepS) * kHz;
    for (int i = 0; i < samples; ++i) {
      const double t = (i + 1) / static_cast<double>(kHz);
      const std::int64_t wall = wall0 + static_cast<std::int64_t>((step * kStepS + t) * 1000);
      // Heating towards a step's level with a slow daily-like wave, noisy power and bandwidth.
      const double target = (step == 0 ? 82 : 74) + 3 * std::sin(t / 1800.0);
      temp += (target - temp) * 0.004 + 0.05 * unit(random);
      hbm_temp += (target - 10 - hbm_temp) * 0.003 + 0.02 * unit(random);
      const bool throttled = temp > 84.5;
      ce += random() % 20000 == 0 ? 1 : 0;
      crc += random() % 5000 == 0 ? 1 : 0;
      const double v[] = {temp,
                          hbm_temp,
                          (throttled ? 620 : (step == 0 ? 680 : 540)) + 8 * unit(random),
                          throttled ? 2100.0 : 2400.0,
                          850,
                          step == 0 ? 0.97 + 0.005 * unit(random) : 0.4,
                          step == 0 ? (throttled ? 560 : 610) + 3 * unit(random) : 0.0,
                          step == 1 ? 2800 + 25 * unit(random) : 300 + 10 * unit(random),
                          throttled ? 1.0 : 0.0,
                          ce,
                          0,
                          90 + 2 * unit(random),
                          88 + 2 * unit(random),
                          crc,
                          0,
                          1,
                          1,
                          0,
                          0};
      for (std::size_t m = 0; m < slot.size(); ++m) chunker.add(slot[m], t, wall, v[m]);
      values += slot.size();
      if (chunker.full()) send(false);
    }
    send(true);
  }
  if (!(*writer)->set_run_status(*run_id, "completed", "", 0)) throw std::runtime_error("set_run_status");
  return *run_id;
}

// kilnd's answer to a request: a fresh read-only connection, the shared
// dispatch, the reply on the wire and back (what the dashboard decodes).
struct StoreAnswers {
  std::string path;
  bool refuse_rollups = false;  // as a daemon older than roll-ups
  std::size_t reply_bytes = 0;

  kiln::Result<kiln::v1::QueryReply> answer(const kiln::v1::Envelope& e) {
    using namespace kiln;
    KILN_TRY_ASSIGN(auto reader, store::Reader::open(path));
    kiln::v1::QueryReply reply;
    if (e.has_get_plan()) {
      KILN_TRY_ASSIGN(*reply.mutable_run_plan(), reports::run_plan(*reader, e.get_plan().run_id()));
    } else if (refuse_rollups && e.query().kind() == kiln::v1::Query::ROLLUPS) {
      return make_error(ErrorCode::unavailable, "invalid_argument: unknown query");
    } else {
      KILN_TRY_ASSIGN(reply, reports::answer_query(*reader, e.query()));
    }
    const std::string wire = reply.SerializeAsString();
    reply_bytes += wire.size();
    kiln::v1::QueryReply decoded;
    if (!decoded.ParseFromString(wire)) return make_error(ErrorCode::parse, "reply does not decode");
    return decoded;
  }
};

kiln::v1::LiveUpdate chip_update(std::uint64_t run_id) {
  kiln::v1::LiveUpdate u;
  u.set_sent_unix_ms(kiln::gui::Dashboard::local_now_ms());
  auto* rack = u.add_racks();
  rack->set_rack("r01");
  rack->set_connected(true);
  auto* live = u.add_chips();
  live->set_serial(kSerial);
  live->set_rack("r01");
  live->set_slot(2);
  live->set_sku("trn2-sim");
  live->set_run_id(run_id);
  live->set_step_index(1);
  live->set_step("hbm-stream");
  live->set_verdict(kiln::v1::LIVE_VERDICT_PASS);
  (*live->mutable_peaks())["tflops.bf16"] = 667;
  return u;
}

struct Timing {
  std::vector<double> total, paint;
  std::size_t bytes = 0, points = 0, band_points = 0;
};

std::size_t drawn(const kiln::gui::ChipView& view, bool bands) {
  std::size_t n = 0;
  for (const auto* c : view.charts()) n += bands ? c->band_points() : c->points_shown();
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  int runs = 7;
  std::string shots;
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::string(argv[i]) == "--runs")
      runs = std::max(1, std::atoi(argv[++i]));
    else if (std::string(argv[i]) == "--screenshots")
      shots = argv[++i];
  }
  const auto dir = std::filesystem::temp_directory_path() / fmt::format("kiln-gui-rollup-bench-{}", ::getpid());
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "run.db").string();
  std::uint64_t values = 0;
  const auto t_build = Clock::now();
  const std::uint64_t run_id = build_store(path, values);
  const double build_s = ms_since(t_build) / 1000;

  kiln::gui::Dashboard dashboard;
  dashboard.staging().push_update(chip_update(run_id));
  dashboard.refresh();
  StoreAnswers store{path};
  kiln::gui::ChipView view(dashboard);
  view.set_ask([&](kiln::v1::Envelope e, std::function<void(const kiln::Result<kiln::v1::QueryReply>&)> done) {
    done(store.answer(e));
  });
  view.resize(1400, 1000);
  view.show();
  QApplication::processEvents();

  // One opening of the chip: from open() to the first paint, answers included.
  auto open_chip = [&](Timing& timing) {
    store.reply_bytes = 0;
    view.open(QString());
    const auto t0 = Clock::now();
    view.open(kSerial);
    const auto t_paint = Clock::now();
    const QPixmap first = view.grab();
    timing.paint.push_back(ms_since(t_paint));
    timing.total.push_back(ms_since(t0));
    timing.bytes = store.reply_bytes;
    timing.points = drawn(view, false);
    timing.band_points = drawn(view, true);
    return first;
  };
  Timing rollups, raw, zoomed;
  for (int r = 0; r < runs; ++r) {
    store.refuse_rollups = false;
    const QPixmap whole = open_chip(rollups);
    if (r == 0 && !shots.empty()) whole.save(QString::fromStdString(shots + "/dashboard-chip-rollups.png"));
    // Five minutes in the first step's second hour, raw values for that window only.
    store.reply_bytes = 0;
    const auto t0 = Clock::now();
    view.zoom_to(5400, 5700);
    const auto t_paint = Clock::now();
    const QPixmap zoom = view.grab();
    zoomed.paint.push_back(ms_since(t_paint));
    zoomed.total.push_back(ms_since(t0));
    zoomed.bytes = store.reply_bytes;
    zoomed.points = drawn(view, false);
    zoomed.band_points = drawn(view, true);
    if (r == 0 && !shots.empty()) zoom.save(QString::fromStdString(shots + "/dashboard-chip-zoomed.png"));
    store.refuse_rollups = true;
    open_chip(raw);
  }
  auto json = [](const Timing& t) {
    return fmt::format(R"({{"median_ms": {:.1f}, "max_ms": {:.1f}, "paint_median_ms": {:.1f}, "reply_bytes": {}, )"
                       R"("line_points": {}, "band_points": {}}})",
                       median(t.total), *std::max_element(t.total.begin(), t.total.end()), median(t.paint), t.bytes,
                       t.points, t.band_points);
  };
  std::printf(
      "{\n  \"run\": {\"hours\": 8, \"hz\": %d, \"metrics\": 19, \"values\": %llu, \"build_s\": %.1f, \"db_bytes\": "
      "%llu},\n  \"runs\": %d,\n  \"rollups\": %s,\n  \"raw\": %s,\n  \"zoomed_5min\": %s,\n  \"target_ms\": 200\n}\n",
      kHz, static_cast<unsigned long long>(values), build_s,
      static_cast<unsigned long long>(std::filesystem::file_size(path)), runs, json(rollups).c_str(), json(raw).c_str(),
      json(zoomed).c_str());
  std::filesystem::remove_all(dir);
  return 0;
}
