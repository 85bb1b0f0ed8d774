// kilnd --metrics: what a Prometheus server scrapes while a lab runs, read
// over real HTTP and checked by Debian's promtool, as dcgm-exporter users
// would check theirs.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>

#include "tests/integration/lab_fixture.hpp"

namespace kiln::testing {
namespace {

namespace asio = boost::asio;

// The whole HTTP response to `request` (the server closes after one).
std::string http_exchange(std::uint16_t port, const std::string& request) {
  asio::io_context io;
  asio::ip::tcp::socket socket(io);
  socket.connect({asio::ip::make_address("127.0.0.1"), port});
  asio::write(socket, asio::buffer(request));
  std::string response;
  boost::system::error_code ec;
  asio::read(socket, asio::dynamic_buffer(response), ec);  // until the server closes
  return response;
}

std::string get(std::uint16_t port, const std::string& path) {
  return http_exchange(port, "GET " + path + " HTTP/1.1\r\nHost: localhost\r\n\r\n");
}

std::string body_of(const std::string& response) {
  const auto at = response.find("\r\n\r\n");
  return at == std::string::npos ? "" : response.substr(at + 4);
}

constexpr const char* kPlan = R"(plan: scrape
seed: 3
sample_hz: 10
steps:
  - {name: gemm, pattern: gemm, duration: 3s, params: {dtype: bf16, verify: abft}}
)";

TEST(MetricsEndpoint, ServesEveryChipWithItsLabelsAndPassesPromtool) {
  LabExtensions extensions;
  extensions.serve_metrics = true;
  LabFixture lab(extensions);
  lab.start(one_rack_lab("M-", 3, 17, 1, "[{kind: sdc, core: 1, pe: [12, 40], bit: 22, rate: 1}]"));
  lab.wait_for_racks(1);
  ASSERT_NE(lab.metrics_port(), 0);
  const auto report = lab.run_report(kPlan);
  ASSERT_EQ(report["chips"].size(), 3u);

  const std::string m0 = R"(serial="M-0",rack="r01",slot="0",sku="trn2-sim")";
  const std::string m1 = R"(serial="M-1",rack="r01",slot="1",sku="trn2-sim")";
  // The live feed learns the judged verdicts from the store just after the
  // run ends, as a scraper would see them: scrape until they are there.
  std::string response, page;
  for (int attempt = 0; attempt < 200; ++attempt) {
    response = get(lab.metrics_port(), "/metrics");
    page = body_of(response);
    if (page.find("kiln_chip_verdict{" + m0 + ",verdict=\"pass\"} 1\n") != std::string::npos &&
        page.find("kiln_chip_verdict{" + m1 + ",verdict=\"fail\"} 1\n") != std::string::npos) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(response.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << response.substr(0, 200);
  EXPECT_NE(response.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  EXPECT_NE(page.find("kiln_chip_temperature_c{" + m0 + "} "), std::string::npos) << page;
  EXPECT_NE(page.find("kiln_chip_verdict{" + m1 + ",verdict=\"fail\"} 1\n"), std::string::npos) << page;
  EXPECT_NE(page.find("kiln_chip_verdict{" + m0 + ",verdict=\"pass\"} 1\n"), std::string::npos) << page;
  EXPECT_NE(page.find("kiln_link_up{" + m0 + ",link=\"0\"} 1\n"), std::string::npos) << page;
  EXPECT_NE(page.find("# TYPE kiln_chip_hbm_ce_total counter\n"), std::string::npos) << page;
  EXPECT_NE(page.find("kiln_racks_connected 1\n"), std::string::npos) << page;
  EXPECT_NE(page.find("kiln_daemon_last_commit_age_seconds "), std::string::npos) << page;
  EXPECT_EQ(page.find("kiln_daemon_ingest_jobs_total 0\n"), std::string::npos) << "the run's writes were counted";

  // Every series the shipped Grafana dashboard queries is on the page.
  std::ifstream dashboard_file(std::string(KILN_SOURCE_DIR) + "/deploy/grafana/kiln-lab.json");
  const auto dashboard = nlohmann::json::parse(dashboard_file);
  std::set<std::string> queried;
  for (const auto& panel : dashboard["panels"]) {
    for (const auto& target : panel["targets"]) {
      const std::string expr = target["expr"];
      const std::regex name("kiln_[a-z_]+");
      for (auto it = std::sregex_iterator(expr.begin(), expr.end(), name); it != std::sregex_iterator(); ++it) {
        queried.insert(it->str());
      }
    }
  }
  EXPECT_GE(queried.size(), 10u);
  for (const auto& metric : queried) {
    const bool served =
        page.find("\n" + metric + "{") != std::string::npos || page.find("\n" + metric + " ") != std::string::npos;
    EXPECT_TRUE(served) << metric << " is not served";
  }

  // Prometheus' own linter, as a scrape config's owner would run it.
  const char* promtool = "/usr/bin/promtool";
  if (!std::filesystem::exists(promtool)) {
    ADD_FAILURE() << "promtool is not installed (Debian package prometheus; scripts/install-deps.sh installs it)";
  } else {
    const auto file = std::filesystem::temp_directory_path() / ("kiln-metrics-" + std::to_string(lab.port()));
    std::ofstream(file) << page;
    const std::string command = std::string(promtool) + " check metrics < '" + file.string() + "' 2>&1";
    FILE* out = popen(command.c_str(), "r");
    ASSERT_NE(out, nullptr);
    std::string said;
    char buffer[512];
    while (fgets(buffer, sizeof buffer, out) != nullptr) said += buffer;
    const int status = pclose(out);
    std::filesystem::remove(file);
    EXPECT_EQ(status, 0) << said;
  }
}

TEST(MetricsEndpoint, OtherPathsMethodsAndOversizedRequestsAreRefused) {
  LabExtensions extensions;
  extensions.serve_metrics = true;
  LabFixture lab(extensions);
  lab.start(one_rack_lab("N-", 1, 5));
  lab.wait_for_racks(1);
  EXPECT_EQ(get(lab.metrics_port(), "/").rfind("HTTP/1.1 404", 0), 0u);
  EXPECT_EQ(http_exchange(lab.metrics_port(), "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
                .rfind("HTTP/1.1 405", 0),
            0u);
  // 16 KiB of headers: closed unanswered, and the daemon still serves.
  const std::string huge = "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(16 * 1024, 'a') + "\r\n\r\n";
  EXPECT_EQ(http_exchange(lab.metrics_port(), huge), "");
  EXPECT_EQ(get(lab.metrics_port(), "/metrics").rfind("HTTP/1.1 200", 0), 0u);
}

}  // namespace
}  // namespace kiln::testing
