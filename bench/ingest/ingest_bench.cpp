// End-to-end ingest: synthetic agents (the real Outbox and DaemonLink over
// the real protocol, bench/ingest/synthetic_agent.hpp) against a real kilnd
// (spawned from the same build), the old encoding (a Sample per chip and
// tick) and the new one (agent-encoded TelemetryChunks) in one run, on the
// same made-up telemetry (docs/telemetry-storage.md, "Ingest").
//
//   build/default/bin/ingest_bench [--racks 4] [--chips 64] [--seconds 600]
//                                  [--hz 10] [--mode both|samples|chunks]
//                                  [--tls on|off (default off: plain TCP)] [--bin DIR] [--help]
//
// Per encoding, printed as one JSON document: values (samples) sent,
// wall seconds from the dispatch to the last acknowledgement (every batch
// committed), samples/s, batches/s, kilnd's peak resident memory (VmHWM
// from /proc, and the highest VmRSS seen while it ran), and the database's
// bytes per sample once kilnd has stopped.

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <SQLiteCpp/Database.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "bench/ingest/synthetic_agent.hpp"
#include "net/tls_options.hpp"

extern char** environ;

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Json = nlohmann::json;

namespace kiln::bench {
namespace {

struct Options {
  int racks = 4;
  int chips = 64;
  double seconds = 600;
  double hz = 10;
  std::string mode = "both";
  bool tls = false;
  fs::path bin;
};

std::string hex_secret() {
  std::random_device device;
  std::string out;
  for (int i = 0; i < 64; ++i) out.push_back("0123456789abcdef"[device() % 16]);
  return out;
}

void write_private(const fs::path& path, const std::string& text) {
  std::ofstream(path) << text;
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
}

// `quiet`: the child's stdout goes to /dev/null (the benchmark's own stdout
// is one JSON document).
pid_t spawn(const std::vector<std::string>& args, bool quiet = false) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (quiet) posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  const int failed = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (failed != 0) throw std::runtime_error("cannot start " + args[0]);
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// kB of a /proc/PID/status line ("VmRSS:", "VmHWM:"); 0 when unreadable.
std::uint64_t status_kb(pid_t pid, const std::string& key) {
  std::ifstream status(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(key, 0) == 0) return std::stoull(line.substr(key.size()));
  }
  return 0;
}

// CPU seconds (user + system) of a process from /proc/PID/stat.
double cpu_seconds(pid_t pid) {
  std::ifstream stat(fmt::format("/proc/{}/stat", pid));
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string skip;
  for (int i = 3; i < 14; ++i) fields >> skip;  // fields 3..13
  double utime = 0, stime = 0;
  fields >> utime >> stime;
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double own_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  const auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return s(usage.ru_utime) + s(usage.ru_stime);
}

std::uint64_t file_bytes(const fs::path& path) {
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  return ec ? 0 : size;
}

Json run_one(const Options& options, Encoding encoding) {
  const std::string mode = encoding == Encoding::samples ? "samples" : "chunks";
  const fs::path dir = fs::temp_directory_path() / fmt::format("kiln-ingest-bench-{}-{}", getpid(), mode);
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms::owner_all);

  std::vector<SyntheticRack> racks;
  std::string credentials = "credentials:\n";
  for (int r = 0; r < options.racks; ++r) {
    SyntheticRack rack;
    rack.rack = fmt::format("r{:02}", r + 1);
    rack.credential = hex_secret();
    rack.chips = options.chips;
    rack.encoding = encoding;
    credentials += fmt::format("  - {{name: rack-{}, secret: {}, rack: {}}}\n", rack.rack, rack.credential, rack.rack);
    racks.push_back(rack);
  }
  const std::string admin = hex_secret();
  credentials += fmt::format("  - {{name: bench, secret: {}, role: admin}}\n", admin);
  write_private(dir / "credentials.yaml", credentials);
  write_private(dir / "token", admin + "\n");
  std::ofstream(dir / "plan.yaml") << fmt::format(
      "plan: ingest-bench\nseed: 1\nsample_hz: {}\nsteps:\n  - {{name: soak, pattern: idle, duration: {}s}}\n",
      options.hz, options.seconds);

  const fs::path db = dir / "kiln.db";
  std::vector<std::string> kilnd_args{(options.bin / "kilnd").string(),
                                      "--db",
                                      db.string(),
                                      "--listen",
                                      "127.0.0.1:0",
                                      "--port-file",
                                      (dir / "port").string(),
                                      "--credentials",
                                      (dir / "credentials.yaml").string(),
                                      "--log-level",
                                      "warn"};
  std::vector<std::string> client_tls_args;
  if (options.tls) {
    // Mutual TLS as kiln lab sets it up: kilnd's own CA and certificates.
    const fs::path tls_dir = dir / "tls";
    if (wait_exit(spawn({(options.bin / "kilnd").string(), "--init-tls", tls_dir.string()}, /*quiet=*/true)) != 0) {
      throw std::runtime_error("kilnd --init-tls failed");
    }
    const net::TlsFiles files = net::lab_tls_paths(tls_dir.string());
    const net::TlsServerOptions server = files.server(/*mutual=*/true);
    kilnd_args.insert(kilnd_args.end(), {"--tls-cert", server.cert_file, "--tls-key", server.key_file,
                                         "--tls-client-ca", server.client_ca_file});
    for (auto& rack : racks) rack.tls = files.client(/*mutual=*/true);
    client_tls_args = {"--tls-ca", files.ca_cert, "--tls-cert", files.client_cert, "--tls-key", files.client_key};
  }
  const pid_t kilnd = spawn(kilnd_args);
  std::uint16_t port = 0;
  for (int i = 0; i < 3000 && port == 0; ++i) {
    std::ifstream in(dir / "port");
    int p = 0;
    if (in >> p) port = static_cast<std::uint16_t>(p);
    if (port == 0) std::this_thread::sleep_for(10ms);
  }
  if (port == 0) throw std::runtime_error("kilnd did not start");

  std::vector<std::unique_ptr<SyntheticAgent>> agents;
  for (auto& rack : racks) {
    rack.port = port;
    agents.push_back(std::make_unique<SyntheticAgent>(rack));
    agents.back()->start();
  }
  for (int i = 0; i < 3000; ++i) {
    bool all = true;
    for (const auto& a : agents) all = all && a->connected();
    if (all) break;
    std::this_thread::sleep_for(10ms);
  }
  std::this_thread::sleep_for(500ms);  // their RegisterRack is processed
  std::vector<std::string> submit_args{(options.bin / "kiln").string(), "--daemon", fmt::format("127.0.0.1:{}", port),
                                       "--token-file", (dir / "token").string()};
  submit_args.insert(submit_args.end(), client_tls_args.begin(), client_tls_args.end());
  submit_args.insert(submit_args.end(), {"run", "submit", (dir / "plan.yaml").string()});
  const pid_t submit = spawn(submit_args, /*quiet=*/true);
  if (wait_exit(submit) != 0) throw std::runtime_error("kiln run submit failed");

  std::uint64_t peak_rss_kb = 0;
  const double daemon_cpu_before = cpu_seconds(kilnd), agents_cpu_before = own_cpu_seconds();
  for (;;) {
    peak_rss_kb = std::max(peak_rss_kb, status_kb(kilnd, "VmRSS:"));
    bool all = true;
    for (const auto& a : agents) all = all && a->done();
    if (all) break;
    std::this_thread::sleep_for(20ms);
  }
  const auto ended = std::chrono::steady_clock::now();
  auto started = ended;
  std::uint64_t values = 0;
  for (const auto& a : agents) {
    started = std::min(started, a->dispatched_at());
    values += a->values_sent();
  }
  const std::uint64_t hwm_kb = status_kb(kilnd, "VmHWM:");
  const double daemon_cpu = cpu_seconds(kilnd) - daemon_cpu_before;
  const double agents_cpu = own_cpu_seconds() - agents_cpu_before;
  for (auto& a : agents) a->stop();
  kill(kilnd, SIGTERM);
  wait_exit(kilnd);

  const std::uint64_t bytes = file_bytes(db) + file_bytes(fs::path(db.string() + "-wal"));
  std::int64_t batches = 0, stored = 0;
  {
    SQLite::Database read(db.string(), SQLite::OPEN_READONLY);
    batches = read.execAndGet("SELECT count(*) FROM ingested_batches").getInt64();
    stored = read.execAndGet("SELECT coalesce(sum(samples), 0) FROM telemetry_chunks").getInt64() +
             read.execAndGet("SELECT count(*) FROM telemetry_open").getInt64();
  }
  const double seconds = std::chrono::duration<double>(ended - started).count();
  fs::remove_all(dir);
  return Json{{"encoding", mode},
              {"tls", options.tls},
              {"racks", options.racks},
              {"chips", options.racks * options.chips},
              {"samples", values},
              {"samples_stored", stored},
              {"batches", batches},
              {"seconds", seconds},
              {"samples_per_s", static_cast<double>(values) / seconds},
              {"batches_per_s", static_cast<double>(batches) / seconds},
              {"daemon_cpu_s", daemon_cpu},
              {"agents_cpu_s", agents_cpu},
              // What the host gave both sides, all together: on a shared
              // machine the rate a dedicated core pair would reach is at
              // most twice this (2 cores).
              {"samples_per_cpu_s", static_cast<double>(values) / (daemon_cpu + agents_cpu)},
              {"daemon_peak_rss_mb", static_cast<double>(std::max(hwm_kb, peak_rss_kb)) / 1024.0},
              {"db_bytes", bytes},
              {"bytes_per_sample", static_cast<double>(bytes) / static_cast<double>(values)}};
}

}  // namespace
}  // namespace kiln::bench

int main(int argc, char** argv) {
  using namespace kiln::bench;
  Options options;
  options.bin = fs::canonical("/proc/self/exe").parent_path();
  try {
    for (int i = 1; i < argc; ++i) {
      const std::string flag = argv[i];
      const auto next = [&]() -> std::string {
        if (i + 1 >= argc) throw std::runtime_error(flag + " needs a value");
        return argv[++i];
      };
      const auto number = [&]() -> double {
        const std::string value = next();
        std::size_t used = 0;
        double parsed = 0;
        try {
          parsed = std::stod(value, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used != value.size() || !(parsed > 0))
          throw std::runtime_error(flag + " takes a number above 0, not " + value);
        return parsed;
      };
      if (flag == "--help" || flag == "-h") {
        std::cout << "ingest_bench: synthetic agents against a real kilnd from this build; prints one JSON object\n"
                     "  --racks N           racks (default 4)\n"
                     "  --chips N           chips a rack (default 64)\n"
                     "  --seconds S         simulated seconds of telemetry (default 600)\n"
                     "  --hz X              samples a second (default 10)\n"
                     "  --mode both|samples|chunks   which encodings to run (default both)\n"
                     "  --tls on|off        mutual TLS as kiln lab sets it up (default off)\n"
                     "  --bin DIR           where kilnd and kiln are (default: this program's folder)\n";
        return 0;
      }
      if (flag == "--racks")
        options.racks = static_cast<int>(number());
      else if (flag == "--chips")
        options.chips = static_cast<int>(number());
      else if (flag == "--seconds")
        options.seconds = number();
      else if (flag == "--hz")
        options.hz = number();
      else if (flag == "--mode")
        options.mode = next();
      else if (flag == "--tls") {
        const std::string tls = next();
        if (tls != "on" && tls != "off") throw std::runtime_error("--tls takes on or off, not " + tls);
        options.tls = tls == "on";
      } else if (flag == "--bin")
        options.bin = next();
      else
        throw std::runtime_error("unknown option " + flag + " (--help lists them)");
    }
    if (options.mode != "both" && options.mode != "samples" && options.mode != "chunks") {
      throw std::runtime_error("--mode takes both, samples or chunks, not " + options.mode);
    }
  } catch (const std::exception& e) {
    std::cerr << "ingest_bench: " << e.what() << "\n";
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);
  try {
    Json out{{"benchmark", "ingest_bench"},
             {"host_cores", std::thread::hardware_concurrency()},
             {"seconds_simulated", options.seconds},
             {"sample_hz", options.hz},
             {"runs", Json::array()}};
    if (options.mode != "chunks") out["runs"].push_back(run_one(options, Encoding::samples));
    if (options.mode != "samples") out["runs"].push_back(run_one(options, Encoding::chunks));
    std::cout << out.dump(2) << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "ingest_bench: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
