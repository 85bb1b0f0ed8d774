#include "tests/integration/lab_fixture.hpp"

#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli/progress.hpp"
#include "schema/store.hpp"

namespace kiln::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

LabFixture::LabFixture(LabExtensions extensions) : extensions_(std::move(extensions)) {
  std::random_device entropy;
  dir_ = fs::temp_directory_path() / ("kiln-integration-" + std::to_string(entropy()));
  fs::create_directories(dir_);
  db_path_ = dir_ / "kiln.db";
  auto catalog = device::SkuCatalog::load_directory(std::string(KILN_SOURCE_DIR) + "/device/skus");
  if (!catalog) throw std::runtime_error(catalog.error().message);
  catalog_ = std::move(*catalog);
}

LabFixture::~LabFixture() {
  for (auto& a : agents_) {
    if (a) a->stop();
  }
  agents_.clear();
  if (daemon_) daemon_->stop();
  daemon_.reset();
  std::error_code ec;
  fs::remove_all(dir_, ec);
}

void LabFixture::start(const std::string& lab_yaml, const std::string& credential) {
  yaml::Diagnostics diagnostics("lab.yaml");
  lab_ = device::load_lab(lab_yaml, diagnostics, catalog_);
  ASSERT_TRUE(lab_) << diagnostics.to_string();
  if (!daemon_) {
    daemon::DaemonConfig config;
    config.db_path = db_path_.string();
    config.listen_port = 0;
    std::vector<daemon::Credential> credentials;
    std::vector<std::string> racks = extra_racks_;
    for (const auto& rack : lab_->racks) racks.push_back(rack.id);
    for (const auto& rack : racks) credentials.push_back({"rack-" + rack, rack_credential(rack), rack, {}});
    for (const auto& [role, secret] : client_secrets_) {
      credentials.push_back({std::string("itest-") + std::string(daemon::to_string(role)), secret, "", role});
    }
    auto book = daemon::CredentialBook::from(std::move(credentials));
    ASSERT_TRUE(book) << book.error().message;
    config.credentials = std::move(book).value();
    config.patterns = extensions_.patterns;
    config.metrics = extensions_.metrics;
    if (extensions_.serve_metrics) config.metrics_host = "127.0.0.1";
    config.rack_return_timeout = extensions_.rack_return_timeout;
    config.queue = extensions_.queue;
    config.schedules = extensions_.schedules;
    config.ingest_queue_bytes = extensions_.ingest_queue_bytes;
    config.lifecycle_policy = extensions_.lifecycle_policy;
    auto created = daemon::Daemon::create(config);
    ASSERT_TRUE(created) << created.error().message;
    daemon_ = std::move(created).value();
    daemon_->start();
  }
  for (const auto& rack : lab_->racks) {
    agent::AgentConfig config;
    config.rack = rack.id;
    config.host = "127.0.0.1";
    config.port = daemon_->port();
    config.credential = credential.empty() ? rack_credential(rack.id) : credential;
    config.lab = *lab_;
    config.catalog = catalog_;
    config.flush_interval = 50ms;
    config.patterns = extensions_.patterns;
    config.pattern_factory = extensions_.pattern_factory;
    auto created = agent::Agent::create(std::move(config));
    ASSERT_TRUE(created) << created.error().message;
    agents_.push_back(std::move(created).value());
    agents_.back()->start();
  }
}

agent::Agent& LabFixture::agent(const std::string& rack) {
  for (auto& a : agents_) {
    if (a && a->rack() == rack) return *a;
  }
  throw std::runtime_error("no agent for rack " + rack);
}

void LabFixture::issue_rack_credential(const std::string& rack) { extra_racks_.push_back(rack); }

void LabFixture::stop_agent(const std::string& rack) { agent(rack).stop(); }

std::unique_ptr<cli::DaemonClient> LabFixture::client(const std::string& credential) {
  auto c =
      cli::DaemonClient::connect(Endpoint{"127.0.0.1", port()}, credential.empty() ? this->credential() : credential);
  if (!c) throw std::runtime_error(c.error().message);
  return std::move(c).value();
}

std::string LabFixture::query(kiln::v1::Query::Kind kind, std::uint64_t run_id) {
  kiln::v1::Query q;
  q.set_kind(kind);
  q.set_run_id(run_id);
  auto body = client()->query(q);
  if (!body) throw std::runtime_error(body.error().message);
  return *body;
}

void LabFixture::wait_for_racks(std::size_t count, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    auto racks = nlohmann::json::parse(query(kiln::v1::Query::RACKS));
    if (racks["racks"].size() == count) return;
    std::this_thread::sleep_for(50ms);
  }
  FAIL() << "racks did not register in time";
}

std::uint64_t LabFixture::submit(const std::string& plan_yaml, std::optional<std::uint64_t> seed) {
  kiln::v1::SubmitRun request;
  request.set_plan_text(plan_yaml);
  request.set_plan_path("plan.yaml");
  for (const auto& rack : lab_->racks) request.add_racks(rack.id);
  if (seed) request.set_seed(*seed);
  return submit(std::move(request));
}

std::uint64_t LabFixture::submit(kiln::v1::SubmitRun submit) {
  kiln::v1::Envelope request;
  *request.mutable_submit_run() = std::move(submit);
  auto reply = client()->call(std::move(request));
  if (!reply) throw std::runtime_error(reply.error().message);
  const auto& answer = reply->submit_run_reply();
  std::string why = answer.error();
  for (const auto& d : answer.diagnostics()) why += "\n" + d.message();
  if (answer.run_id() == 0) throw std::runtime_error("run refused: " + why);
  return answer.run_id();
}

std::string LabFixture::wait_for_run(std::uint64_t run_id, std::chrono::seconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  kiln::v1::Query q;
  q.set_kind(kiln::v1::Query::RUN);
  q.set_run_id(run_id);
  q.set_answer(kiln::v1::Query::ANSWER_TYPED);
  auto c = client();
  std::string last;
  while (std::chrono::steady_clock::now() < deadline) {
    auto reply = c->ask(q);
    if (!reply) throw std::runtime_error(reply.error().message);
    if (cli::run_finished(reply->run_progress())) return query(kiln::v1::Query::RUN, run_id);
    last = cli::progress_line(reply->run_progress());
    std::this_thread::sleep_for(100ms);
  }
  ADD_FAILURE() << "run " << run_id << " did not finish in time: " << last;
  return query(kiln::v1::Query::RUN, run_id);
}

std::string one_rack_lab(const std::string& prefix, int count, std::uint64_t seed, int faulty,
                         const std::string& faults) {
  std::string chips;
  for (int i = 0; i < count; ++i) {
    chips += fmt::format("      - {{slot: {}, serial: {}{}, sku: trn2-sim{}}}\n", i, prefix, i,
                         i == faulty && !faults.empty() ? ", faults: " + faults : "");
  }
  return fmt::format(
      "lab: itest\nseed: {}\ntime_scale: 100\nracks:\n  - id: r01\n    backend: sim\n"
      "    topology: ring\n    chips:\n{}",
      seed, chips);
}

nlohmann::json LabFixture::run_report(const std::string& plan_yaml) {
  const auto run_id = submit(plan_yaml);
  const auto run = nlohmann::json::parse(wait_for_run(run_id));
  EXPECT_EQ(run["status"], "completed") << run.dump(2);
  return nlohmann::json::parse(query(kiln::v1::Query::REPORT, run_id));
}

void expect_nothing_lost(const std::filesystem::path& db_path, std::uint64_t run_id, int chips) {
  // The values stored (sealed in chunks or still open), read as kiln telemetry reads them.
  std::map<std::pair<std::string, std::uint32_t>, std::int64_t> stored;  // (serial, step) -> values
  auto reader = store::Reader::open(db_path.string());
  ASSERT_TRUE(reader) << reader.error().message;
  ASSERT_TRUE((*reader)->telemetry(run_id, "", "temperature_c", [&](const store::TelemetryRow& row) {
    ++stored[{row.serial, row.step_index}];
  }));
  SQLite::Database db(db_path.string(), SQLite::OPEN_READONLY);
  SQLite::Statement q(db,
                      "SELECT c.serial, m.step_index, m.count FROM chip_step_metrics m JOIN chips c ON c.id = "
                      "m.chip_id JOIN metric_names n ON n.id = m.metric_id WHERE m.run_id = ? AND "
                      "n.name = 'temperature_c'");
  q.bind(1, static_cast<std::int64_t>(run_id));
  int seen = 0;
  while (q.executeStep()) {
    ++seen;
    const std::string serial = q.getColumn(0).getString();
    const auto step = static_cast<std::uint32_t>(q.getColumn(1).getInt64());
    const std::int64_t counted = q.getColumn(2).getInt64();
    EXPECT_GT(counted, 0);
    EXPECT_EQ((stored[{serial, step}]), counted) << serial << ": values lost or stored twice";
  }
  EXPECT_EQ(seen, chips);
}

std::string shipped_plan(const std::string& name) {
  std::ifstream in(std::string(KILN_SOURCE_DIR) + "/testplans/" + name);
  if (!in) throw std::runtime_error("no shipped plan testplans/" + name);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

nlohmann::json run_on_new_lab(const std::string& lab_yaml, const std::string& plan_yaml) {
  LabFixture lab;
  lab.start(lab_yaml);
  lab.wait_for_racks(1);
  return lab.run_report(plan_yaml);
}

}  // namespace kiln::testing
