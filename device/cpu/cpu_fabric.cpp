#include "device/cpu/cpu_fabric.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>

#include <fmt/format.h>

namespace kiln::device {
namespace {

// Small integers: every sum of them is exact in fp32, so checks are exact.
float value(std::size_t chip, std::size_t element) { return static_cast<float>((chip + 1) + element % 7); }

}  // namespace

void CpuFabric::fill(std::size_t elements) {
  const auto n = static_cast<std::size_t>(chips_);
  send_.assign(n, std::vector<float>(elements));
  recv_.assign(n, std::vector<float>(elements));
  staging_.assign(n, std::vector<float>(elements / n));
  for (std::size_t c = 0; c < n; ++c) {
    for (std::size_t e = 0; e < elements; ++e) send_[c][e] = value(c, e);
  }
}

// One ring step: every chip sends chunk `sent(c)` of its recv buffer to the
// next chip, which adds it to (reduce) or stores it in (gather) its own.
void CpuFabric::ring_step(std::size_t chunk_len, auto sent, bool reduce) {
  const auto n = static_cast<std::size_t>(chips_);
  for (std::size_t c = 0; c < n; ++c) {  // send: into the receiver's staging buffer
    std::memcpy(staging_[(c + 1) % n].data(), recv_[c].data() + sent(c) * chunk_len, chunk_len * sizeof(float));
  }
  for (std::size_t c = 0; c < n; ++c) {  // receive
    float* into = recv_[c].data() + sent((c + n - 1) % n) * chunk_len;
    const float* from = staging_[c].data();
    if (reduce) {
      for (std::size_t i = 0; i < chunk_len; ++i) into[i] += from[i];
    } else {
      std::memcpy(into, from, chunk_len * sizeof(float));
    }
  }
}

void CpuFabric::run_once(CollectiveOp op, std::size_t elements) {
  const auto n = static_cast<std::size_t>(chips_);
  const std::size_t len = elements / n;  // chunk; elements is a multiple of n
  switch (op) {
    case CollectiveOp::allreduce:
    case CollectiveOp::reduce_scatter:
      for (std::size_t c = 0; c < n; ++c) std::memcpy(recv_[c].data(), send_[c].data(), elements * sizeof(float));
      // Reduce-scatter: at step s chip c sends chunk (c − s); chip c ends with chunk (c + 1) reduced.
      for (std::size_t s = 0; s + 1 < n; ++s)
        ring_step(
            len, [&](std::size_t c) { return (c + n - s) % n; }, true);
      if (op == CollectiveOp::reduce_scatter) break;
      // Allgather of the reduced chunks: at step s chip c sends chunk (c + 1 − s).
      for (std::size_t s = 0; s + 1 < n; ++s)
        ring_step(
            len, [&](std::size_t c) { return (c + 1 + n - s) % n; }, false);
      break;
    case CollectiveOp::allgather:
      for (std::size_t c = 0; c < n; ++c)
        std::memcpy(recv_[c].data() + c * len, send_[c].data() + c * len, len * sizeof(float));
      for (std::size_t s = 0; s + 1 < n; ++s)
        ring_step(
            len, [&](std::size_t c) { return (c + n - s) % n; }, false);
      break;
    case CollectiveOp::alltoall:
      for (std::size_t to = 0; to < n; ++to) {
        for (std::size_t from = 0; from < n; ++from) {
          std::memcpy(recv_[to].data() + from * len, send_[from].data() + to * len, len * sizeof(float));
        }
      }
      break;
    case CollectiveOp::sendrecv:
      for (std::size_t c = 0; c < n; ++c)
        std::memcpy(recv_[(c + 1) % n].data(), send_[c].data(), elements * sizeof(float));
      break;
  }
  if (corrupt_chip_ >= 0 && static_cast<std::size_t>(corrupt_chip_) < n)
    recv_[static_cast<std::size_t>(corrupt_chip_)][0] += 1;
}

// Output words of `chip` that differ from the exact answer.
std::uint64_t CpuFabric::check(CollectiveOp op, std::size_t elements, std::size_t chip) const {
  const auto n = static_cast<std::size_t>(chips_);
  const std::size_t len = elements / n;
  const auto& out = recv_[chip];
  std::uint64_t wrong = 0;
  const auto expect = [&](std::size_t e, float want) { wrong += out[e] != want; };
  const auto total = [&](std::size_t e) { return static_cast<float>(n * (n + 1) / 2 + n * (e % 7)); };
  switch (op) {
    case CollectiveOp::allreduce:
      for (std::size_t e = 0; e < elements; ++e) expect(e, total(e));
      break;
    case CollectiveOp::reduce_scatter: {
      const std::size_t k = (chip + 1) % n;  // the chunk this chip reduced
      for (std::size_t e = k * len; e < (k + 1) * len; ++e) expect(e, total(e));
      break;
    }
    case CollectiveOp::allgather:
      for (std::size_t e = 0; e < elements; ++e) expect(e, value(e / len, e));
      break;
    case CollectiveOp::alltoall:
      for (std::size_t e = 0; e < elements; ++e) expect(e, value(e / len, chip * len + e % len));
      break;
    case CollectiveOp::sendrecv:
      for (std::size_t e = 0; e < elements; ++e) expect(e, value((chip + n - 1) % n, e));
      break;
  }
  return wrong;
}

Result<CollectiveSlice> CpuFabric::run_collective(const CollectiveWork& work, Seconds dt,
                                                  const std::vector<std::string>& absent) {
  const auto n = static_cast<std::size_t>(chips_);
  if (n < 2) return make_error(ErrorCode::invalid_argument, "a collective needs at least 2 chips, the host has {}", n);
  if (work.bytes == 0) return make_error(ErrorCode::invalid_argument, "a collective needs a size above 0 bytes");
  for (std::size_t c = 0; c < absent.size() && c < n; ++c) {
    if (absent[c].empty()) continue;
    CollectiveSlice stalled;
    stalled.elapsed = dt;
    stalled.links.assign(n, {});
    stalled.result_errors.assign(n, 0);
    stalled.chip_algbw_gbps.assign(n, 0);
    stalled.chip_busbw_gbps.assign(n, 0);
    stalled.chip_group.assign(n, -1);
    stalled.stalled = fmt::format("a host collective needs every chip, and chip {} took no part ({})", c, absent[c]);
    stalled.idle.assign(n, stalled.stalled);
    return stalled;
  }
  // Whole fp32 elements, a multiple of the chip count, at least one per chip.
  const std::uint64_t bytes = std::min(work.bytes, kCpuCollectiveMaxBytes);
  const std::size_t elements = std::max<std::size_t>(n, bytes / sizeof(float) / n * n);
  if (send_.size() != n || send_[0].size() != elements) fill(elements);

  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  const auto until = start + std::chrono::duration_cast<Clock::duration>(dt);
  CollectiveSlice slice;
  slice.links.assign(n, {});
  slice.result_errors.assign(n, 0);
  double moving = 0;  // time spent moving data, not checking it
  do {
    const auto t = Clock::now();
    run_once(work.op, elements);
    moving += std::chrono::duration<double>(Clock::now() - t).count();
    slice.collectives += 1;
    if (work.check) {
      for (std::size_t c = 0; c < n; ++c) slice.result_errors[c] += check(work.op, elements, c);
    }
  } while (Clock::now() < until);
  slice.elapsed = std::chrono::duration<double>(Clock::now() - start);
  slice.seconds_per_collective = moving / slice.collectives;
  const double size = static_cast<double>(elements * sizeof(float));
  slice.algbw_gbps = slice.seconds_per_collective > 0 ? size / slice.seconds_per_collective / 1e9 : 0;
  slice.busbw_gbps = slice.algbw_gbps * busbw_factor(work.op, chips_);
  slice.chip_algbw_gbps.assign(n, slice.algbw_gbps);
  slice.chip_busbw_gbps.assign(n, slice.busbw_gbps);
  CollectiveGroup all;
  for (int c = 0; c < chips_; ++c) all.chips.push_back(c);
  all.collectives = slice.collectives;
  all.seconds_per_collective = slice.seconds_per_collective;
  all.algbw_gbps = slice.algbw_gbps;
  all.busbw_gbps = slice.busbw_gbps;
  slice.groups.push_back(std::move(all));
  slice.chip_group.assign(n, 0);
  slice.idle.assign(n, "");
  return slice;
}

}  // namespace kiln::device
