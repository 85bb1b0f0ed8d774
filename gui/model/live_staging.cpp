#include "gui/model/live_staging.hpp"

namespace kiln::gui {

const char* to_string(LinkPhase phase) {
  switch (phase) {
    case LinkPhase::disconnected: return "disconnected";
    case LinkPhase::connecting: return "connecting";
    case LinkPhase::connected: return "connected";
    case LinkPhase::reconnecting: return "reconnecting";
  }
  return "?";
}

void LiveStaging::push_update(kiln::v1::LiveUpdate update) {
  std::vector<kiln::v1::LiveUpdate> applied;
  {
    std::lock_guard lock(mutex_);
    staged_.updates.push_back(std::move(update));
    std::swap(applied, applied_);
  }
  // `applied` is destroyed here, on the pushing (network) thread, outside the lock.
}

void LiveStaging::give_back(std::vector<kiln::v1::LiveUpdate> applied) {
  std::lock_guard lock(mutex_);
  if (applied_.empty()) {
    applied_ = std::move(applied);
  } else {
    for (auto& u : applied) applied_.push_back(std::move(u));
  }
}

void LiveStaging::push_reply(Reply reply) {
  std::lock_guard lock(mutex_);
  staged_.replies.push_back(std::move(reply));
}

void LiveStaging::set_link(LinkState state) {
  std::lock_guard lock(mutex_);
  link_ = state;
  staged_.link = std::move(state);
}

Staged LiveStaging::take() {
  Staged out;
  std::lock_guard lock(mutex_);
  std::swap(out, staged_);
  return out;
}

LinkState LiveStaging::link() const {
  std::lock_guard lock(mutex_);
  return link_;
}

}  // namespace kiln::gui
