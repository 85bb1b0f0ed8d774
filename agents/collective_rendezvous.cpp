#include "agents/collective_rendezvous.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

namespace kiln::agent {

CollectiveRendezvous::CollectiveRendezvous(device::Fabric& fabric, std::vector<std::string> serials)
    : fabric_(fabric), serials_(std::move(serials)) {}

std::optional<int> CollectiveRendezvous::member(const std::string& serial) const {
  const auto it = std::find(serials_.begin(), serials_.end(), serial);
  if (it == serials_.end()) return std::nullopt;
  return static_cast<int>(it - serials_.begin());
}

CollectiveRendezvous::Round& CollectiveRendezvous::round(std::uint32_t step_index) {
  Round& r = rounds_[step_index];
  if (r.left.empty()) {
    r.left.assign(serials_.size(), false);
    r.absent.assign(serials_.size(), "");
  }
  return r;
}

int CollectiveRendezvous::present(const Round& r) const {
  return static_cast<int>(std::count(r.left.begin(), r.left.end(), false));
}

void CollectiveRendezvous::run_slice(Round& r) {
  r.last = fabric_.run_collective(*r.work, r.share, r.absent).transform([](device::CollectiveSlice slice) {
    return std::make_shared<const device::CollectiveSlice>(std::move(slice));
  });
  r.arrived = 0;
  r.work.reset();
  ++r.generation;
  cv_.notify_all();
}

Result<std::shared_ptr<const device::CollectiveSlice>> CollectiveRendezvous::exchange(
    std::uint32_t step_index, int member, const device::CollectiveWork& work, Seconds share,
    const std::stop_token& stop) {
  std::unique_lock lock(mutex_);
  Round& r = round(step_index);
  if (!r.broken.empty()) return make_error(ErrorCode::unavailable, "{}", r.broken);
  if (r.done) return make_error(ErrorCode::conflict, "done");
  if (member < 0 || member >= members() || r.left[static_cast<std::size_t>(member)]) {
    return make_error(ErrorCode::internal, "member {} cannot take part in step {}", member, step_index);
  }
  if (r.arrived == 0) {
    r.work = work;
    r.share = share;
  } else if (r.work->op != work.op || r.work->check != work.check) {
    // Members out of step: a bug, but it must not hang or mix collectives.
    r.broken = fmt::format("chip {} asked for a different collective than the others",
                           serials_[static_cast<std::size_t>(member)]);
    cv_.notify_all();
    return make_error(ErrorCode::internal, "{}", r.broken);
  } else {
    // Simulated chips always agree. Real chips' ticks last as long as their
    // work did, so their shares (and, at a boundary of the size sweep,
    // sizes) can differ a little: the slice runs the first member's size
    // for the longest share asked for.
    r.share = std::max(r.share, share);
  }
  const std::uint64_t generation = r.generation;
  if (++r.arrived == present(r)) {
    run_slice(r);
    return r.last;
  }
  wait_or_stop(cv_, lock, stop, [&] { return r.generation != generation || !r.broken.empty() || r.done; });
  if (r.generation != generation) return r.last;
  if (!r.broken.empty()) return make_error(ErrorCode::unavailable, "{}", r.broken);
  if (r.done) {
    --r.arrived;
    return make_error(ErrorCode::conflict, "done");
  }
  // Stopped while waiting: this member leaves, and so the others stop waiting too.
  --r.arrived;
  r.left[static_cast<std::size_t>(member)] = true;
  r.broken = fmt::format("chip {} stopped taking part", serials_[static_cast<std::size_t>(member)]);
  cv_.notify_all();
  return make_error(ErrorCode::unavailable, "aborted");
}

void CollectiveRendezvous::leave(std::uint32_t step_index, int member, const std::string& why, bool completed) {
  std::lock_guard lock(mutex_);
  Round& r = round(step_index);
  if (member < 0 || member >= members() || r.left[static_cast<std::size_t>(member)]) return;
  r.left[static_cast<std::size_t>(member)] = true;
  r.absent[static_cast<std::size_t>(member)] = why.empty() ? "it left the step" : why;
  if (completed) {
    r.done = true;
  } else if (r.arrived > 0 && r.arrived == present(r) && r.broken.empty() && !r.done) {
    // The others were waiting only for this member: their slice runs without it.
    run_slice(r);
    return;
  }
  cv_.notify_all();
}

}  // namespace kiln::agent
