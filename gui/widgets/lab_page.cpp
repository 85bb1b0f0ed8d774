#include "gui/widgets/lab_page.hpp"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QScrollArea>
#include <QShortcut>
#include <QVBoxLayout>

#include <array>

#include "gui/dashboard.hpp"
#include "gui/widgets/lab_view.hpp"

namespace kiln::gui {

LabPage::LabPage(Dashboard& dashboard, QWidget* parent)
    : QWidget(parent),
      dashboard_(dashboard),
      view_(new LabView(dashboard)),
      scroll_(new QScrollArea),
      mode_(new QComboBox),
      problems_only_(new QCheckBox(tr("Only &failing / suspect"))),
      search_(new QLineEdit),
      census_(new QLabel),
      legend_(new QWidget) {
  for (ColourMode m : kColourModes) mode_->addItem(mode_name(m));
  mode_->setToolTip(tr("What the tiles' colour shows (Ctrl+1 … Ctrl+5)"));
  auto* top = new QHBoxLayout;
  top->addWidget(new QLabel(tr("Colour by:")));
  top->addWidget(mode_);
  top->addSpacing(12);
  problems_only_->setToolTip(
      tr("Show only chips that failed, erred, are over a limit so far, marginal, "
         "inconclusive, or counting errors while running"));
  top->addWidget(problems_only_);
  search_->setPlaceholderText(tr("Find serial (Ctrl+F)"));
  search_->setClearButtonEnabled(true);
  search_->setMaximumWidth(220);
  top->addWidget(search_);
  top->addSpacing(12);
  top->addWidget(census_, 1);
  scroll_->setWidget(view_);
  scroll_->setWidgetResizable(true);
  scroll_->setFrameShape(QFrame::NoFrame);
  auto* legend_layout = new QHBoxLayout(legend_);
  legend_layout->setContentsMargins(0, 0, 0, 0);
  auto* layout = new QVBoxLayout(this);
  layout->addLayout(top);
  layout->addWidget(scroll_, 1);
  layout->addWidget(legend_);
  connect(mode_, &QComboBox::currentIndexChanged, this, [this](int index) {
    view_->set_mode(kColourModes[index]);
    update_legend();
  });
  connect(problems_only_, &QCheckBox::toggled, view_, &LabView::set_problems_only);
  connect(search_, &QLineEdit::returnPressed, this, &LabPage::find);
  connect(search_, &QLineEdit::textEdited, this, [this] { search_->setStyleSheet(QString()); });
  auto* find_key = new QShortcut(QKeySequence::Find, this);
  connect(find_key, &QShortcut::activated, search_, [this] {
    search_->setFocus();
    search_->selectAll();
  });
  connect(view_, &LabView::chipSelected, this, [this](const QString& serial) {
    const QRect r = view_->tile_rect(serial.toStdString());
    if (!r.isNull()) scroll_->ensureVisible(r.center().x(), r.center().y(), r.width() + 20, r.height() + 20);
  });
  connect(&dashboard_, &Dashboard::labUpdated, this, &LabPage::update_census);
  connect(&dashboard_, &Dashboard::linkChanged, this, &LabPage::update_census);
  update_legend();
  update_census();
}

void LabPage::find() {
  const QString text = search_->text().trimmed();
  if (text.isEmpty()) return;
  const QString serial = view_->select(text);
  // Red text: no chip, or several; the tooltip says which.
  search_->setStyleSheet(serial.isEmpty() ? QStringLiteral("color: #d62728;") : QString());
  search_->setToolTip(serial.isEmpty() ? tr("No single chip's serial contains \"%1\"").arg(text)
                                       : tr("Selected %1; click it to open it").arg(serial));
  if (!serial.isEmpty() && view_->tile_rect(serial.toStdString()).isNull() && problems_only_->isChecked()) {
    problems_only_->setChecked(false);  // a healthy chip searched for is shown, and scrolled to
    view_->select(serial);
  }
}

void LabPage::set_mode_index(int index) { mode_->setCurrentIndex(index); }
int LabPage::mode_index() const { return mode_->currentIndex(); }

void LabPage::update_census() {
  // Runs on every refresh of thousands of chips: counts in a fixed array, no maps.
  static const char* const kStates[] = {"running", "pass",  "marginal",     "over_limit",
                                        "fail",    "error", "inconclusive", "idle"};
  constexpr std::size_t kIdle = 7;
  std::array<int, std::size(kStates)> counts{};
  int stale = 0;
  const LabState& lab = dashboard_.lab();
  const std::int64_t now = Dashboard::local_now_ms();
  for (const auto& chip : lab.chips()) {
    std::size_t slot = kIdle;
    for (std::size_t i = 0; i < kIdle; ++i) {
      if (chip.verdict == kStates[i]) slot = i;
    }
    ++counts[slot];
    if (slot == 0 && (lab.age_ms(chip, now) > LabState::kStaleAfterMs || !lab.rack_connected(chip))) ++stale;
  }
  QString text = tr("%1 racks, %2 chips").arg(lab.racks().size()).arg(lab.chips().size());
  for (std::size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] > 0) text += QStringLiteral(" · %1 %2").arg(counts[i]).arg(QString::fromLatin1(kStates[i]));
  }
  if (stale > 0) text += tr(" · <b>%1 stale</b>").arg(stale);
  census_->setText(text);
}

void LabPage::update_legend() {
  auto* layout = static_cast<QHBoxLayout*>(legend_->layout());
  while (auto* item = layout->takeAt(0)) {
    delete item->widget();
    delete item;
  }
  for (const auto& [label, colour] : legend(view_->mode())) {
    auto* swatch = new QLabel;
    swatch->setFixedSize(14, 14);
    swatch->setStyleSheet(QStringLiteral("background:%1; border:1px solid #888;").arg(colour.name()));
    layout->addWidget(swatch);
    layout->addWidget(new QLabel(label));
    layout->addSpacing(10);
  }
  layout->addStretch(1);
}

}  // namespace kiln::gui
