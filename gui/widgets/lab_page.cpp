#include "gui/widgets/lab_page.hpp"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QScrollArea>
#include <QShortcut>
#include <QToolButton>
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
      states_(new QToolButton),
      search_(new QLineEdit),
      census_(new QLabel),
      legend_(new QWidget) {
  for (ColourMode m : kColourModes) mode_->addItem(mode_name(m));
  mode_->setToolTip(tr("What the tiles' colour shows (Ctrl+1 … Ctrl+6)"));
  auto* top = new QHBoxLayout;
  top->addWidget(new QLabel(tr("Colour by:")));
  top->addWidget(mode_);
  top->addSpacing(12);
  problems_only_->setToolTip(
      tr("Show only chips that failed, erred, are over a limit so far, marginal, "
         "inconclusive, or counting errors while running"));
  top->addWidget(problems_only_);
  // Lifecycle states: a menu of checks, all by default.
  auto* menu = new QMenu(states_);
  for (const Lifecycle state : kLifecycleStates) {
    QAction* action = menu->addAction(lifecycle_name(state));
    action->setCheckable(true);
    action->setChecked(true);
    action->setData(static_cast<int>(state));
    connect(action, &QAction::toggled, this, [this] {
      StateSet set = StateSet::none();
      for (QAction* a : states_->menu()->actions()) {
        if (a->isCheckable() && a->isChecked()) set.set(static_cast<Lifecycle>(a->data().toInt()), true);
      }
      view_->set_state_filter(set);
      update_states_button();
    });
  }
  menu->addSeparator();
  menu->addAction(tr("All states"), this, [this] { set_state_filter(StateSet::all()); });
  states_->setMenu(menu);
  states_->setPopupMode(QToolButton::InstantPopup);
  states_->setToolTip(tr("Show only chips in the chosen lifecycle states (from the daemon's inventory)"));
  top->addWidget(states_);
  update_states_button();
  search_->setPlaceholderText(tr("Find serial (Ctrl+F)"));
  search_->setClearButtonEnabled(true);
  search_->setMaximumWidth(220);
  top->addWidget(search_);
  top->addSpacing(12);
  // The census can be long (counts per state): it wraps rather than squeezing the controls.
  census_->setWordWrap(true);
  census_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
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
    update_census();
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
  connect(&dashboard_, &Dashboard::lifecycleUpdated, this, &LabPage::update_census);
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

void LabPage::set_state_filter(StateSet states) {
  for (QAction* a : states_->menu()->actions()) {
    if (!a->isCheckable()) continue;
    const QSignalBlocker quiet(a);
    a->setChecked(states.contains(static_cast<Lifecycle>(a->data().toInt())));
  }
  view_->set_state_filter(states);
  update_states_button();
}

void LabPage::update_states_button() {
  const StateSet set = view_->state_filter();
  QStringList names;
  for (const Lifecycle state : kLifecycleStates) {
    if (set.contains(state)) names << lifecycle_name(state);
  }
  states_->setText(set.is_all()    ? tr("States: all")
                   : names.empty() ? tr("States: none")
                                   : tr("States: %1").arg(names.join(QStringLiteral(", "))));
  // A filter that hides chips stands out.
  states_->setStyleSheet(set.is_all() ? QString() : QStringLiteral("font-weight: bold;"));
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
  if (view_->mode() == ColourMode::lifecycle) {
    // Lifecycle counts, in the states' order; chips the daemon has not said of yet too.
    std::array<int, kLifecycleStateCount + 1> states{};
    for (const auto& chip : lab.chips())
      ++states[chip.lifecycle ? static_cast<std::size_t>(*chip.lifecycle) : kLifecycleStateCount];
    QStringList parts;
    for (const Lifecycle state : kLifecycleStates) {
      const int n = states[static_cast<std::size_t>(state)];
      if (n > 0) parts << QStringLiteral("%1 %2").arg(n).arg(lifecycle_name(state));
    }
    if (states[kLifecycleStateCount] > 0) parts << tr("%1 not known yet").arg(states[kLifecycleStateCount]);
    if (!parts.isEmpty()) text += QStringLiteral(" — ") + parts.join(QStringLiteral(" · "));
  }
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
