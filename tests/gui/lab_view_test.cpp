// The lab view stays readable at 1,024 and 4,096 chips: every chip has a
// cell of its own, large enough to see and to hover; the "failing /
// suspect" filter hides the healthy ones; failing chips come first in their
// rack; a search by serial selects (and scrolls to) the chip; zooming in
// labels the cells.

#include <QCheckBox>
#include <QDir>
#include <QFileInfo>
#include <QLineEdit>
#include <QScrollArea>
#include <QScrollBar>
#include <QTest>

#include <gtest/gtest.h>

#include "gui/dashboard.hpp"
#include "gui/widgets/lab_page.hpp"
#include "gui/widgets/lab_view.hpp"
#include "gui/widgets/main_window.hpp"
#include "tests/gui/gui_test_support.hpp"

namespace kiln::gui {
namespace {

using testing::FakeChip;
using testing::make_update;

std::string serial_of(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "TRN-%05d", i);
  return buf;
}

// `racks` racks of `per_rack` chips; every 97th chip fails, every 101st is marginal.
void feed_lab(Dashboard& dashboard, int racks, int per_rack) {
  const auto now = Dashboard::local_now_ms();
  std::vector<FakeChip> chips;
  for (int r = 0; r < racks; ++r) {
    char rack[16];
    std::snprintf(rack, sizeof rack, "r%03d", r);
    for (int s = 0; s < per_rack; ++s) {
      const int i = r * per_rack + s;
      FakeChip c{serial_of(i), rack, static_cast<unsigned>(s),
                 i % 97 == 50 ? "fail" : (i % 101 == 7 ? "marginal" : "pass")};
      c.wall_ms = now;
      chips.push_back(c);
    }
  }
  auto update = make_update(chips, true, now);
  for (int r = 0; r < racks; ++r) {
    char rack[16];
    std::snprintf(rack, sizeof rack, "r%03d", r);
    auto* live = update.add_racks();
    live->set_rack(rack);
    live->set_connected(true);
  }
  dashboard.staging().push_update(update);
  dashboard.refresh();
}

// Every chip has a cell of at least `min_px` square, inside the widget, and no two overlap.
void expect_a_cell_each(const LabView& view, const LabState& lab, int min_px) {
  std::vector<std::uint8_t> covered(static_cast<std::size_t>(view.width() * view.height()), 0);
  int overlaps = 0, small = 0, missing = 0;
  for (const auto& chip : lab.chips()) {
    const QRect r = view.tile_rect(chip.serial);
    if (r.isNull()) {
      ++missing;
      continue;
    }
    small += (r.width() < min_px || r.height() < min_px) ? 1 : 0;
    ASSERT_TRUE(view.rect().contains(r)) << chip.serial << " is drawn outside the view";
    for (int y = r.top(); y <= r.bottom(); ++y) {
      for (int x = r.left(); x <= r.right(); ++x) {
        auto& c = covered[static_cast<std::size_t>(y * view.width() + x)];
        overlaps += c;
        c = 1;
      }
    }
  }
  EXPECT_EQ(missing, 0);
  EXPECT_EQ(small, 0) << "cells smaller than " << min_px << " px";
  EXPECT_EQ(overlaps, 0);
}

class LabViewAtScale : public ::testing::TestWithParam<std::tuple<int, int, int>> {};

TEST_P(LabViewAtScale, EveryChipHasACellAndFiltersAndSearchWork) {
  const auto [racks, per_rack, min_px] = GetParam();
  Dashboard dashboard;
  feed_lab(dashboard, racks, per_rack);
  const LabState& lab = dashboard.lab();
  ASSERT_EQ(lab.chips().size(), static_cast<std::size_t>(racks * per_rack));
  LabView view(dashboard);
  view.resize(1280, 800);
  view.show();
  expect_a_cell_each(view, lab, min_px);
  EXPECT_EQ(view.cells_shown(), lab.chips().size());

  // Hover says which chip it is, whatever the cell's size.
  const std::string probe = serial_of(racks * per_rack / 2 + 3);
  const ChipState* hovered = view.chip_at(view.tile_rect(probe).center());
  ASSERT_NE(hovered, nullptr);
  EXPECT_EQ(hovered->serial, probe);
  EXPECT_TRUE(view.tooltip_for(*hovered).contains(QString::fromStdString(probe)));

  // Failing chips first within their rack: the rack's first failing chip sits where its slot 0 would.
  const std::string failing = serial_of(50);  // rack 0, slot 50
  const std::string healthy = serial_of(0);   // rack 0, slot 0
  EXPECT_EQ(lab.find(failing)->verdict, "fail");
  const QRect f = view.tile_rect(failing), h = view.tile_rect(healthy);
  EXPECT_TRUE(f.top() < h.top() || (f.top() == h.top() && f.left() < h.left())) << "the failing chip comes first";

  // Only failing / suspect: the healthy ones have no cell, the others larger ones.
  std::size_t problems = 0;
  for (const auto& chip : lab.chips()) problems += problem_rank(lab, chip) < kHealthy ? 1 : 0;
  ASSERT_GT(problems, 0u);
  view.set_problems_only(true);
  EXPECT_EQ(view.cells_shown(), problems);
  EXPECT_TRUE(view.tile_rect(healthy).isNull());
  EXPECT_GE(view.tile_rect(failing).width(), f.width());
  for (const auto& chip : lab.chips()) {
    EXPECT_EQ(view.tile_rect(chip.serial).isNull(), problem_rank(lab, chip) == kHealthy) << chip.serial;
  }
  view.set_problems_only(false);

  // A search by serial selects the chip; several matches select none.
  EXPECT_EQ(view.select(QString::fromStdString(probe).toLower()), QString::fromStdString(probe));
  EXPECT_EQ(view.selected_serial(), QString::fromStdString(probe));
  EXPECT_TRUE(view.select("TRN-0").isEmpty()) << "a prefix of many chips";

  // Zoomed in, cells are labelled with their serial.
  view.zoom_by(30);
  EXPECT_TRUE(view.labelled());
  EXPECT_GE(view.tile_rect(probe).width(), 72);
}

INSTANTIATE_TEST_SUITE_P(Lab, LabViewAtScale,
                         ::testing::Values(std::tuple{16, 64, 18},  // 1,024 chips
                                           std::tuple{64, 64, 8}),  // 4,096 chips
                         [](const auto& info) {
                           return std::to_string(std::get<0>(info.param) * std::get<1>(info.param));
                         });

TEST(LabPage, SearchScrollsToTheChipAndShowsItThroughTheFilter) {
  Dashboard dashboard;
  feed_lab(dashboard, 64, 64);
  LabPage page(dashboard);
  page.resize(1280, 860);
  page.show();
  page.view().zoom_by(30);  // labelled cells: the lab no longer fits, the page scrolls
  QCoreApplication::processEvents();
  ASSERT_GT(page.scroll().verticalScrollBar()->maximum(), 0);
  page.problems_only().setChecked(true);
  const std::string last = serial_of(64 * 64 - 2);  // healthy, near the end
  page.search().setText(QString::fromStdString(last));
  QTest::keyClick(&page.search(), Qt::Key_Return);
  QCoreApplication::processEvents();
  EXPECT_EQ(page.view().selected_serial(), QString::fromStdString(last));
  EXPECT_FALSE(page.problems_only().isChecked()) << "the chip searched for is healthy: the filter gives way";
  const QRect cell = page.view().tile_rect(last);
  ASSERT_FALSE(cell.isNull());
  const QRect visible(QPoint(page.scroll().horizontalScrollBar()->value(), page.scroll().verticalScrollBar()->value()),
                      page.scroll().viewport()->size());
  EXPECT_TRUE(visible.contains(cell)) << "the page scrolled to the chip";
}

}  // namespace
}  // namespace kiln::gui

namespace kiln::gui {
namespace {

// The lab views of docs/dashboard.md at 1,024 and 4,096 chips: a synthetic
// lab mid-run (most chips running at their temperature, some judged, a few
// failing or over a limit, one rack's agent lost), the main window at
// 1280×800 as `kiln-dash --screenshot` captures it.
void capture_lab(int racks, int per_rack, const char* name) {
  Dashboard dashboard;
  const auto now = Dashboard::local_now_ms();
  std::vector<FakeChip> chips;
  for (int r = 0; r < racks; ++r) {
    char rack[16];
    std::snprintf(rack, sizeof rack, "r%03d", r);
    for (int s = 0; s < per_rack; ++s) {
      const int i = r * per_rack + s;
      const char* verdict = i % 211 == 17   ? "fail"
                            : i % 173 == 5  ? "over_limit"
                            : i % 149 == 9  ? "marginal"
                            : r < racks / 4 ? "pass"
                                            : "running";
      FakeChip c{serial_of(i), rack, static_cast<unsigned>(s), verdict};
      c.temperature_c = 55 + (i * 37 % 30);
      c.wall_ms = now;
      chips.push_back(c);
    }
  }
  auto update = make_update(chips, true, now);
  for (int r = 0; r < racks; ++r) {
    char rack[16];
    std::snprintf(rack, sizeof rack, "r%03d", r);
    auto* live = update.add_racks();
    live->set_rack(rack);
    live->set_connected(r != racks - 3);
  }
  dashboard.staging().push_update(update);
  dashboard.refresh();
  MainWindow window(dashboard);
  window.resize(1280, 800);
  window.show();
  QCoreApplication::processEvents();
  const QString dir = QStringLiteral(KILN_SCREENSHOT_DIR);
  QDir().mkpath(dir);
  const QString path = dir + QStringLiteral("/") + QString::fromLatin1(name);
  ASSERT_TRUE(window.grab().save(path)) << path.toStdString();
  EXPECT_GT(QFileInfo(path).size(), 0);
}

TEST(LabScreenshots, At1024Chips) { capture_lab(16, 64, "dashboard-lab-1024.png"); }
TEST(LabScreenshots, At4096Chips) { capture_lab(64, 64, "dashboard-lab-4096.png"); }

}  // namespace
}  // namespace kiln::gui
