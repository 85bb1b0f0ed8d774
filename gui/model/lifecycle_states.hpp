#pragma once
// Each chip's lifecycle state by serial (docs/lifecycle.md), as the
// daemon's CHIPS query lists it: what the lab view colours and filters by
// in its lifecycle mode. The dashboard reads it when it connects, when a run
// ends and every kRefreshMs. Qt-free.

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/result.hpp"
#include "lifecycle/chip_state.hpp"

namespace kiln::gui {

// gui::ChipState is a chip's live state; this is its lifecycle state.
using Lifecycle = lifecycle::ChipState;

inline constexpr Lifecycle kLifecycleStates[] = {Lifecycle::unknown,     Lifecycle::healthy, Lifecycle::suspect,
                                                 Lifecycle::quarantined, Lifecycle::rma,     Lifecycle::retired,
                                                 Lifecycle::maintenance};
inline constexpr std::size_t kLifecycleStateCount = std::size(kLifecycleStates);

// A set of lifecycle states, one bit per state: the lab view's filter.
class StateSet {
 public:
  static StateSet all() { return StateSet((1u << kLifecycleStateCount) - 1); }
  static StateSet none() { return StateSet(0); }
  bool contains(Lifecycle s) const { return (bits_ >> static_cast<unsigned>(s)) & 1u; }
  void set(Lifecycle s, bool on) {
    if (on) {
      bits_ |= 1u << static_cast<unsigned>(s);
    } else {
      bits_ &= ~(1u << static_cast<unsigned>(s));
    }
  }
  bool is_all() const { return bits_ == all().bits_; }
  std::uint32_t bits() const { return bits_; }
  static StateSet from_bits(std::uint32_t bits) { return StateSet(bits & all().bits_); }
  bool operator==(const StateSet&) const = default;

 private:
  explicit StateSet(std::uint32_t bits) : bits_(bits) {}
  std::uint32_t bits_;
};

class LifecycleStates {
 public:
  static constexpr std::int64_t kRefreshMs = 30000;

  // The CHIPS query's JSON ({"chips": [{"serial", "state", ...}]}). Replaces
  // what was known; returns whether any chip's state changed. A state this
  // build does not know reads unknown.
  Result<bool> load_chips_json(const std::string& text);

  // nullopt: the daemon has not said (not loaded yet, or a chip it does not list).
  std::optional<Lifecycle> state_of(const std::string& serial) const;
  bool loaded() const { return loaded_; }
  std::size_t size() const { return states_.size(); }

 private:
  std::unordered_map<std::string, Lifecycle> states_;
  bool loaded_ = false;
};

}  // namespace kiln::gui
