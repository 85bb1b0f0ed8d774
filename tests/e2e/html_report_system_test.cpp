// The HTML report as a browser shows it: headless Chromium renders the
// report of the demo lab's run (the planted SDC chip TRN-0205), from the
// running daemon (`kiln lab --format html`) and from the database file
// afterwards (`kiln report --format html -o`), which must be the same page.
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <string>

#include <gtest/gtest.h>

#include "tests/e2e/system_fixture.hpp"

namespace {

namespace fs = std::filesystem;
using kiln::e2e::Outcome;
using kiln::e2e::slurp;
using kiln::e2e::System;

constexpr const char* kChromium = "/usr/bin/chromium";

TEST_F(System, HtmlReportOfTheDemoLabRendersOfflineInChromium) {
  const std::string db = (dir_ / "kiln.db").string();
  Outcome lab = run(bin("kiln") + " lab --db '" + db + "' --format html");
  ASSERT_EQ(lab.status, 4) << lab.err;  // the planted chip fails
  const fs::path page = dir_ / "report.html";
  Outcome report = run(bin("kiln") + " --db '" + db + "' report 1 --format html -o '" + page.string() + "'");
  ASSERT_EQ(report.status, 0) << report.err;
  const std::string html = slurp(page);
  // The daemon's answers and the file's give the same page, charts included.
  EXPECT_EQ(html, lab.out);

  // Nothing it shows is fetched: no URL, no external source or link.
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);
  EXPECT_EQ(html.find("href="), std::string::npos);

  if (!fs::exists(kChromium)) {
    GTEST_SKIP() << "needs headless Chromium at " << kChromium << " (scripts/install-deps.sh installs chromium)";
  }
  const std::string flags = std::string(kChromium) + " --headless --disable-gpu --no-sandbox --user-data-dir='" +
                            (dir_ / "chromium").string() + "'";
  const std::string url = "file://" + page.string();
  Outcome dom = run(flags + " --dump-dom '" + url + "'");
  ASSERT_EQ(dom.status, 0) << dom.err;
  EXPECT_NE(dom.out.find("id=\"verdict-matrix\""), std::string::npos) << dom.out.substr(0, 2000);
  EXPECT_NE(dom.out.find("TRN-0205"), std::string::npos);
  EXPECT_NE(dom.out.find("core 1 pe [12,40] bit 22"), std::string::npos);
  EXPECT_TRUE(std::regex_search(dom.out, std::regex("<td class=\"v v-fail\"[^>]*>fail</td>")));
  EXPECT_NE(dom.out.find("<svg"), std::string::npos);
  EXPECT_NE(dom.out.find("id=\"chip-TRN-0205\""), std::string::npos);
  EXPECT_NE(dom.out.find("kiln run submit testplans/smoke.yaml --seed "), std::string::npos);

  const fs::path png = dir_ / "report.png";
  Outcome shot = run(flags + " --screenshot='" + png.string() + "' --window-size=1400,2000 '" + url + "'");
  ASSERT_EQ(shot.status, 0) << shot.err;
  ASSERT_TRUE(fs::exists(png));
  EXPECT_GT(fs::file_size(png), 10000u);  // a blank page is a few kB
  EXPECT_EQ(slurp(png).substr(1, 3), "PNG");
}

}  // namespace
