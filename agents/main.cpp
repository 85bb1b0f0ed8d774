// kiln-agent: runs the steps kilnd dispatches on the chips of one rack.
#include <csignal>
#include <cstdio>
#include <ctime>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include "agents/agent.hpp"
#include "core/endpoint.hpp"
#include "core/log.hpp"
#include "core/units.hpp"
#include "core/version.hpp"
#include "device/lab.hpp"
#include "device/sku.hpp"
#include "device/sku_search.hpp"
#include "net/link.hpp"
#include "net/tls_flags.hpp"

namespace {

int fail(const std::string& message) {
  fmt::print(stderr, "kiln-agent: {}\n", message);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"kiln-agent: runs the test steps kilnd dispatches on the chips of one rack"};
  std::string rack, daemon, token_file, lab_path, skus_dir, backend, spool, log_level = "info";
  app.add_option("--rack", rack, "Rack id, as in the lab file")->required();
  app.add_option("--daemon", daemon, "kilnd address, HOST:PORT")->required();
  app.add_option("--token-file", token_file, "File whose first line is the shared secret")->required();
  app.add_option("--lab", lab_path, "Lab file (device/labs/*.yaml)")->required();
  app.add_option("--skus", skus_dir,
                 "SKU directory (default: $KILN_SKU_PATH, then next to the lab, then the installed share/kiln/skus)");
  app.add_option("--backend", backend, "Override the rack's backend (sim and cpu are built in; cuda is not yet)")
      ->check(CLI::IsMember({"sim", "cpu", "cuda"}));
  std::string spool_max = "1GiB";
  app.add_option("--spool", spool,
                 "Spool directory (created 0700): unacknowledged batches persist there and a restarted agent "
                 "resends them. Without it they are kept in memory only");
  app.add_option("--spool-max", spool_max,
                 "Spool size cap; when it is reached sampling pauses until the daemon acknowledges")
      ->capture_default_str();
  bool unpaced = false;
  app.add_flag("--unpaced", unpaced, "Run simulated chips as fast as this host allows, whatever the lab's time_scale");
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off")->capture_default_str();
  kiln::net::TlsClientOptions tls;
  kiln::net::add_tls_client_flags(app, tls);
  app.set_version_flag("--version", kiln::version_line("kiln-agent"));
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help, --version
  } catch (const CLI::ParseError& e) {
    (void)app.exit(e);
    return 1;
  }

  if (auto logging = kiln::setup_logging(fmt::format("kiln-agent/{}", rack), log_level); !logging) {
    return fail(logging.error().message);
  }
  auto address = kiln::parse_endpoint(daemon);
  if (!address) return fail(address.error().message);
  if (auto usable = kiln::net::check_tls(tls); !usable) return fail(usable.error().message);
  auto token = kiln::read_token_file(token_file);
  if (!token) return fail(token.error().message);
  auto found_skus = kiln::device::find_sku_directory(
      {skus_dir, kiln::device::sku_path_from_environment(), lab_path, kiln::device::this_program_path()});
  if (!found_skus) return fail(found_skus.error().message);
  auto catalog = kiln::device::SkuCatalog::load_directory(*found_skus);
  if (!catalog) return fail(catalog.error().message);
  auto lab = kiln::device::load_lab_file(lab_path, *catalog);
  if (!lab) return fail(lab.error().message);
  if (unpaced) lab->unpaced = true;
  if (!backend.empty()) {
    const auto chosen = kiln::device::parse_backend(backend);
    if (!chosen) return fail(fmt::format("unknown backend '{}'", backend));
    for (auto& r : lab->racks) {
      if (r.id == rack) r.backend = *chosen;
    }
  }
  std::optional<kiln::agent::SpoolOptions> spool_options;
  if (!spool.empty()) {
    auto cap = kiln::parse_size(spool_max);
    if (!cap) return fail(fmt::format("--spool-max: {}", cap.error().message));
    if (*cap < kiln::agent::Outbox::kDefaultBatchBytes) return fail("--spool-max: at least 1MiB");
    spool_options = kiln::agent::SpoolOptions{spool, *cap};
  }

  // Signals are taken synchronously by this thread only: block them before
  // any other thread exists, so that every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  kiln::agent::AgentConfig config;
  config.rack = rack;
  config.host = address->host;
  config.port = address->port;
  config.credential = *token;
  config.tls = tls;
  config.lab = std::move(lab).value();
  config.catalog = std::move(catalog).value();
  config.spool = spool_options;
  auto agent = kiln::agent::Agent::create(std::move(config));
  if (!agent) return fail(agent.error().message);

  (*agent)->start();
  for (;;) {
    const timespec poll{0, 200'000'000};
    const int signal = sigtimedwait(&signals, nullptr, &poll);
    if (signal == SIGINT || signal == SIGTERM) {
      spdlog::info("signal {}: stopping", signal);
      (*agent)->stop();
      return 0;
    }
    if ((*agent)->fatal()) {
      const std::string reason = (*agent)->fatal_reason();
      (*agent)->stop();
      return fail(fmt::format("refused by the daemon: {}", reason));
    }
  }
}
