// chunk::SeriesColumns (schema/telemetry_chunk.hpp): an agent's series
// encoded value by value, in the layout append_raw() writes.

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>
#include <utility>

#include "schema/telemetry_chunk.hpp"
#include "telemetry_chunk_varint.hpp"  // the codec's own, not published

namespace kiln::store::chunk {
using namespace codec;
namespace {

void push_delta_of_delta(detail::VarintColumn& out, std::int64_t value, std::int64_t& last, std::int64_t& last_delta) {
  const std::int64_t delta = minus(value, last);
  out.put(zigzag(minus(delta, last_delta)));
  last = value;
  last_delta = delta;
}

// std::llround for |x| < 2^52, inline (libm's is a call, and this runs
// for every value an agent samples): halves away from zero. x − trunc(x)
// is exact there.
std::int64_t round_half_away(double x) {
  auto whole = static_cast<std::int64_t>(x);
  const double fraction = x - static_cast<double>(whole);
  if (fraction >= 0.5) ++whole;
  if (fraction <= -0.5) --whole;
  return whole;
}

}  // namespace

SeriesColumns::SeriesColumns(std::uint32_t scale) : scale_(scale), grid_(grid_scale(scale)) {}

void SeriesColumns::push_times(std::int64_t t_us, std::int64_t wall_unix_ms) {
  push_delta_of_delta(t_us_, t_us, last_t_us_, last_t_delta_);
  push_delta_of_delta(wall_, wall_unix_ms, last_wall_, last_wall_delta_);
}

void SeriesColumns::add(std::int64_t t_us, std::int64_t wall_unix_ms, double value) {
  assert(!on_ticks_ || points_ == 0);  // a chunk's values come one way
  on_ticks_ = false;
  push_times(t_us, wall_unix_ms);
  ++points_;
  add_value(value);
}

void SeriesColumns::own_times(const TickTimes& ticks) {
  for (std::size_t i = 0; i < points_; ++i) {
    const auto tick = static_cast<std::uint32_t>(first_tick_ + i);
    push_times(ticks.t_us(tick), ticks.wall_unix_ms(tick));
  }
  on_ticks_ = false;
}

void SeriesColumns::add_value(double value) {
  if (grid_) {
    // The usual value: finite and well inside the grid (NaN fails the
    // compare). Its quantum is the rounding of value × scale, which is
    // what the general path below finds too.
    const double x = value * static_cast<double>(scale_);
    if (std::fabs(x) < kMaxQuantum / 2) {
      const std::int64_t q = round_half_away(x);
      values_.put(zigzag(minus(q, last_q_)));
      last_q_ = q;
      return;
    }
  }
  // What a Point would hold, then encoded as append_raw() does.
  const double v = quantised(value, scale_);
  if (grid_) {
    const double scale = static_cast<double>(scale_);
    if (std::isfinite(v) && std::fabs(v * scale) < kMaxQuantum) {
      const auto q = static_cast<std::int64_t>(std::llround(v * scale));
      values_.put(zigzag(minus(q, last_q_)));
      last_q_ = q;
      return;
    }
    leave_grid();
  }
  const auto bits = std::bit_cast<std::uint64_t>(v);
  values_.put(bits ^ last_bits_);
  last_bits_ = bits;
}

void SeriesColumns::leave_grid() {
  // The values so far were on the grid: q / scale is the double each Point
  // would hold (|q| < 2^48, so exactly quantised()'s result).
  detail::VarintColumn exact;
  Cursor cursor(values_.bytes());
  std::int64_t q = 0;
  std::uint64_t last_bits = 0;
  for (std::size_t i = 0; i + 1 < points_; ++i) {
    std::int64_t delta = 0;
    cursor.signed_varint(delta);  // written by add(): cannot fail
    q = plus(q, delta);
    const auto bits = std::bit_cast<std::uint64_t>(static_cast<double>(q) / static_cast<double>(scale_));
    exact.put(bits ^ last_bits);
    last_bits = bits;
  }
  values_ = std::move(exact);
  last_bits_ = last_bits;
  grid_ = false;
}

void SeriesColumns::clear() {
  t_us_.clear();
  wall_.clear();
  values_.clear();
  points_ = 0;
  on_ticks_ = false;
  first_tick_ = 0;
  last_t_us_ = last_t_delta_ = last_wall_ = last_wall_delta_ = last_q_ = 0;
  last_bits_ = 0;
  grid_ = grid_scale(scale_);
}

void SeriesColumns::append_to(std::string& raw, std::uint32_t metric_id, const TickTimes* ticks) const {
  VarintWriter writer(raw, 4);
  writer.put(metric_id);
  writer.put(grid_ ? kQuantisedEncoding : kRawEncoding);
  if (grid_) writer.put(scale_);
  writer.put(points_);
  writer.finish();
  if (on_ticks_ && points_ > 0) {
    assert(ticks != nullptr);
    ticks->append_columns(raw, first_tick_, points_);
  } else {
    raw.append(t_us_.bytes()).append(wall_.bytes());
  }
  raw.append(values_.bytes());
}

std::uint32_t TickTimes::add(std::int64_t t_us, std::int64_t wall_unix_ms) {
  const auto tick = static_cast<std::uint32_t>(t_us_.size());
  std::int64_t last_t = tick == 0 ? 0 : t_us_.back(), last_wall = tick == 0 ? 0 : wall_.back();
  push_delta_of_delta(t_column_, t_us, last_t, last_t_delta_);
  push_delta_of_delta(wall_column_, wall_unix_ms, last_wall, last_wall_delta_);
  t_us_.push_back(t_us);
  wall_.push_back(wall_unix_ms);
  t_end_.push_back(static_cast<std::uint32_t>(t_column_.bytes().size()));
  wall_end_.push_back(static_cast<std::uint32_t>(wall_column_.bytes().size()));
  return tick;
}

void TickTimes::append_columns(std::string& raw, std::uint32_t first, std::size_t count) const {
  // A series' first two times are encoded from its own start (0, 0); from
  // its third on, delta-of-delta depends only on the two times before, so
  // the bytes are those of the ticks' own columns.
  const auto column = [&](const std::vector<std::int64_t>& times, const detail::VarintColumn& all,
                          const std::vector<std::uint32_t>& end) {
    detail::VarintColumn head;
    std::int64_t last = 0, last_delta = 0;
    for (std::size_t i = 0; i < std::min<std::size_t>(count, 2); ++i) {
      push_delta_of_delta(head, times[first + i], last, last_delta);
    }
    raw.append(head.bytes());
    if (count > 2) raw.append(all.bytes().substr(end[first + 1], end[first + count - 1] - end[first + 1]));
  };
  column(t_us_, t_column_, t_end_);
  column(wall_, wall_column_, wall_end_);
}

void TickTimes::clear() {
  t_us_.clear();
  wall_.clear();
  t_column_.clear();
  wall_column_.clear();
  t_end_.clear();
  wall_end_.clear();
  last_t_delta_ = last_wall_delta_ = 0;
}

}  // namespace kiln::store::chunk
