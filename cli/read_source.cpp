#include "cli/read_source.hpp"

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "cli/client.hpp"
#include "core/endpoint.hpp"
#include "reports/answer.hpp"
#include "reports/typed_replies.hpp"
#include "schema/store.hpp"

namespace kiln::cli {
namespace {

class DatabaseSource final : public ReadSource {
 public:
  explicit DatabaseSource(std::unique_ptr<store::Reader> reader, std::string path)
      : reader_(std::move(reader)), path_(std::move(path)) {}

  Result<kiln::v1::QueryReply> query(const kiln::v1::Query& q) override { return reports::answer_query(*reader_, q); }
  Result<kiln::v1::RunPlan> plan(std::uint64_t run_id) override { return reports::run_plan(*reader_, run_id); }
  std::string describe() const override { return "database " + path_; }

 private:
  std::unique_ptr<store::Reader> reader_;
  std::string path_;
};

class DaemonSource final : public ReadSource {
 public:
  DaemonSource(std::unique_ptr<DaemonClient> client, std::string where)
      : client_(std::move(client)), where_(std::move(where)) {}
  Result<kiln::v1::QueryReply> query(const kiln::v1::Query& q) override { return client_->ask(q); }
  Result<kiln::v1::RunPlan> plan(std::uint64_t run_id) override { return client_->plan(run_id); }
  std::string describe() const override { return "daemon " + where_; }

 private:
  std::unique_ptr<DaemonClient> client_;
  std::string where_;
};

Result<std::unique_ptr<ReadSource>> open_database(const std::string& path) {
  auto reader = store::Reader::open(path);
  if (!reader) return make_error(reader.error().code, "cannot read database {}: {}", path, reader.error().message);
  return std::unique_ptr<ReadSource>(new DatabaseSource(std::move(*reader), path));
}

std::string daemon_address(const GlobalOptions& options) {
  return options.daemon.empty() ? std::string(kDefaultDaemon) : options.daemon;
}

}  // namespace

reports::ReportSources report_sources(ReadSource& source) {
  return {[&source](const kiln::v1::Query& q) { return source.query(q); },
          [&source](std::uint64_t run_id) { return source.plan(run_id); }};
}

Result<std::unique_ptr<DaemonClient>> connect_daemon(const GlobalOptions& options) {
  const std::string address = daemon_address(options);
  auto endpoint = parse_endpoint(address);
  if (!endpoint) return make_error(ErrorCode::invalid_argument, "--daemon: {}", endpoint.error().message);
  if (options.token_file.empty()) {
    return make_error(ErrorCode::invalid_argument,
                      "talking to the daemon at {} needs its token: --token-file F or KILN_TOKEN_FILE", address);
  }
  KILN_TRY_ASSIGN(const std::string token, read_token_file(options.token_file));
  return DaemonClient::connect(*endpoint, token, options.tls);
}

Result<std::unique_ptr<ReadSource>> open_read_source(const GlobalOptions& options) {
  if (!options.db.empty()) return open_database(options.db);
  const bool chose_daemon = !options.daemon.empty();
  const bool have_default_db = std::filesystem::exists(kDefaultDb);
  if (options.token_file.empty() && !chose_daemon && have_default_db) {
    std::cerr << "kiln: no token file given; reading " << kDefaultDb << "\n";
    return open_database(kDefaultDb);
  }
  auto client = connect_daemon(options);
  if (client) {
    return std::unique_ptr<ReadSource>(new DaemonSource(std::move(*client), daemon_address(options)));
  }
  if (!chose_daemon && have_default_db && client.error().code == ErrorCode::unavailable) {
    std::cerr << "kiln: " << client.error().message << "; reading " << kDefaultDb << "\n";
    return open_database(kDefaultDb);
  }
  return client.error();
}

}  // namespace kiln::cli
