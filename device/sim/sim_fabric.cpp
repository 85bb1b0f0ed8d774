#include "device/sim/sim_fabric.hpp"

#include <algorithm>
#include <cmath>
#include <deque>

#include <fmt/format.h>

#include "device/sim/collective_data.hpp"

namespace kiln::device {

std::vector<std::vector<LinkEnd>> wire_topology(Topology topology, int n, int links) {
  std::vector<std::vector<LinkEnd>> wiring(static_cast<std::size_t>(n),
                                           std::vector<LinkEnd>(static_cast<std::size_t>(std::max(0, links))));
  const auto connect = [&](int chip, int link, int peer, int peer_link) {
    if (link >= links || peer_link >= links || peer == chip) return;  // not on this SKU, or a loop to itself
    wiring[static_cast<std::size_t>(chip)][static_cast<std::size_t>(link)] = LinkEnd{peer, peer_link};
  };
  switch (topology) {
    case Topology::ring:
      for (int c = 0; c < n; ++c) {
        connect(c, 0, (c + 1) % n, 1);
        connect(c, 1, (c - 1 + n) % n, 0);
      }
      break;
    case Topology::torus2d: {
      int rows = 1;
      for (int d = 1; d * d <= n; ++d) {
        if (n % d == 0) rows = d;
      }
      const int cols = n / std::max(1, rows);
      for (int c = 0; c < n; ++c) {
        const int x = c % cols, y = c / cols;
        connect(c, 0, y * cols + (x + 1) % cols, 1);
        connect(c, 1, y * cols + (x - 1 + cols) % cols, 0);
        connect(c, 2, ((y + 1) % rows) * cols + x, 3);
        connect(c, 3, ((y - 1 + rows) % rows) * cols + x, 2);
      }
      break;
    }
    case Topology::full:
      for (int c = 0; c < n; ++c) {
        for (int p = 0; p < n; ++p) {
          if (p == c) continue;
          connect(c, p < c ? p : p - 1, p, c < p ? c : c - 1);
        }
      }
      break;
  }
  return wiring;
}

SimFabric::SimFabric(Topology topology, std::vector<SimChip*> chips) : chips_(std::move(chips)) {
  // Chips of different SKUs may have different link counts: wire by the
  // largest, then drop every cable an end of which its chip does not have.
  int most = 0;
  for (const SimChip* chip : chips_) most = std::max(most, chip->link_count());
  wiring_ = wire_topology(topology, chip_count(), most);
  for (std::size_t c = 0; c < chips_.size(); ++c) {
    auto& ports = wiring_[c];
    ports.resize(static_cast<std::size_t>(chips_[c]->link_count()));
    for (auto& far : ports) {
      if (far.wired() && far.link >= chips_[static_cast<std::size_t>(far.chip)]->link_count()) far = LinkEnd{};
    }
  }
  for (std::size_t c = 0; c < chips_.size(); ++c) {
    for (int l = 0; l < chips_[c]->link_count(); ++l) {
      const LinkEnd far = wiring_[c][static_cast<std::size_t>(l)];
      SimLinkPort& port = chips_[c]->port(l);
      port.peer_chip = far.chip;
      port.peer_link = far.link;
      if (!far.wired()) continue;
      const SimFaultState& far_faults = chips_[static_cast<std::size_t>(far.chip)]->faults();
      port.peer_down_after = far_faults.link_down_after(far.link);
      port.peer_bandwidth_factor = far_faults.link_bandwidth_factor(far.link);
    }
  }
  compute_routes();
}

Result<std::unique_ptr<SimFabric>> SimFabric::make(Topology topology, const std::vector<Chip*>& chips) {
  std::vector<SimChip*> sims;
  for (Chip* chip : chips) {
    auto* sim = dynamic_cast<SimChip*>(chip);
    if (sim == nullptr) return make_error(ErrorCode::invalid_argument, "a sim fabric needs simulated chips");
    sims.push_back(sim);
  }
  return std::unique_ptr<SimFabric>(new SimFabric(topology, std::move(sims)));
}

// Breadth-first search from every chip; links tried in index order, so the
// routes (and all that depends on them) are deterministic.
void SimFabric::compute_routes() {
  const int n = chip_count();
  routes_.assign(static_cast<std::size_t>(n * n), {});
  for (int from = 0; from < n; ++from) {
    std::vector<LinkEnd> via(static_cast<std::size_t>(n));  // hop that reached each chip
    std::vector<bool> seen(static_cast<std::size_t>(n), false);
    seen[static_cast<std::size_t>(from)] = true;
    std::deque<int> queue{from};
    while (!queue.empty()) {
      const int c = queue.front();
      queue.pop_front();
      const auto& ports = wiring_[static_cast<std::size_t>(c)];
      for (int l = 0; l < static_cast<int>(ports.size()); ++l) {
        const int next = ports[static_cast<std::size_t>(l)].chip;
        if (next < 0 || seen[static_cast<std::size_t>(next)]) continue;
        seen[static_cast<std::size_t>(next)] = true;
        via[static_cast<std::size_t>(next)] = LinkEnd{c, l};
        queue.push_back(next);
      }
    }
    for (int to = 0; to < n; ++to) {
      if (to == from || !seen[static_cast<std::size_t>(to)]) continue;
      auto& path = routes_[static_cast<std::size_t>(from * n + to)];
      for (int c = to; c != from; c = via[static_cast<std::size_t>(c)].chip)
        path.push_back(via[static_cast<std::size_t>(c)]);
      std::reverse(path.begin(), path.end());
    }
  }
}

const std::vector<LinkEnd>& SimFabric::route(int from, int to) const {
  return routes_[static_cast<std::size_t>(from * chip_count() + to)];
}

std::vector<SimFabric::Flow> SimFabric::flows(const CollectiveWork& work) const {
  const int n = chip_count();
  const double s = static_cast<double>(work.bytes);
  std::vector<Flow> out;
  const auto rings = [&](double per_neighbour) {  // half the data on each ring direction
    for (int c = 0; c < n; ++c) {
      out.push_back(Flow{c, (c + 1) % n, per_neighbour / 2});
      out.push_back(Flow{c, (c - 1 + n) % n, per_neighbour / 2});
    }
  };
  switch (work.op) {
    case CollectiveOp::allreduce: rings(2.0 * (n - 1) / n * s); break;
    case CollectiveOp::allgather:
    case CollectiveOp::reduce_scatter: rings(static_cast<double>(n - 1) / n * s); break;
    case CollectiveOp::alltoall:
      for (int c = 0; c < n; ++c) {
        for (int t = 0; t < n; ++t) {
          if (t != c) out.push_back(Flow{c, t, s / n});
        }
      }
      break;
    case CollectiveOp::sendrecv:
      for (int c = 0; c < n; ++c) out.push_back(Flow{c, (c + 1) % n, s});
      break;
  }
  return out;
}

std::vector<std::vector<double>> SimFabric::link_loads(const CollectiveWork& work, std::size_t* max_hops) const {
  std::vector<std::vector<double>> load(wiring_.size());
  for (std::size_t c = 0; c < wiring_.size(); ++c) load[c].assign(wiring_[c].size(), 0.0);
  std::size_t hops = 0;
  for (const Flow& f : flows(work)) {
    const auto& path = route(f.from, f.to);
    hops = std::max(hops, path.size());
    for (const LinkEnd& hop : path)
      load[static_cast<std::size_t>(hop.chip)][static_cast<std::size_t>(hop.link)] += f.bytes;
  }
  if (max_hops != nullptr) *max_hops = hops;
  return load;
}

double SimFabric::peak_busbw_gbps(CollectiveOp op) const {
  const int n = chip_count();
  if (n < 2) return 0;
  CollectiveWork work;
  work.op = op;
  work.bytes = 1ULL << 30;
  const auto load = link_loads(work, nullptr);
  double slowest = 0;
  for (int c = 0; c < n; ++c) {
    const double nominal = chips_[static_cast<std::size_t>(c)]->sku().link_bandwidth_gbps * 1e9;
    for (std::size_t l = 0; l < load[static_cast<std::size_t>(c)].size(); ++l) {
      const double bytes = load[static_cast<std::size_t>(c)][l];
      if (bytes <= 0) continue;
      if (nominal <= 0) return 0;
      slowest = std::max(slowest, bytes / nominal);
    }
  }
  if (slowest <= 0) return 0;
  return static_cast<double>(work.bytes) / slowest / 1e9 * busbw_factor(op, n);
}

int SimFabric::latency_steps(CollectiveOp op) const {
  const int n = chip_count();
  switch (op) {
    case CollectiveOp::allreduce: return 2 * (n - 1);
    case CollectiveOp::allgather:
    case CollectiveOp::reduce_scatter: return n - 1;
    case CollectiveOp::alltoall:
    case CollectiveOp::sendrecv: return 1;
  }
  return 1;
}

Result<CollectiveSlice> SimFabric::run_collective(const CollectiveWork& work, Seconds dt) {
  const int n = chip_count();
  if (n < 2) return make_error(ErrorCode::invalid_argument, "a collective needs at least 2 chips, the rack has {}", n);
  if (work.bytes == 0) return make_error(ErrorCode::invalid_argument, "a collective needs a size above 0 bytes");
  CollectiveSlice slice;
  slice.elapsed = dt;
  // Per chip and link: [c][l], sized by each chip's own link count.
  const auto per_link = [&](auto value) {
    std::vector<std::vector<decltype(value)>> out(static_cast<std::size_t>(n));
    for (int c = 0; c < n; ++c)
      out[static_cast<std::size_t>(c)].assign(wiring_[static_cast<std::size_t>(c)].size(), value);
    return out;
  };
  const auto links = [&](int c) { return static_cast<int>(wiring_[static_cast<std::size_t>(c)].size()); };
  slice.links = per_link(CollectiveLinkSlice{});
  for (int c = 0; c < n; ++c) {
    for (int l = 0; l < links(c); ++l)
      slice.links[static_cast<std::size_t>(c)][static_cast<std::size_t>(l)].up =
          chips_[static_cast<std::size_t>(c)]->link_up(l);
  }
  for (const SimChip* chip : chips_) {
    if (chip->hung()) slice.stalled = fmt::format("chip {} is hung", chip->identity().serial);
  }

  // Load per directed link (sending chip, link) for one collective.
  std::size_t max_hops = 0;
  const auto load = link_loads(work, &max_hops);
  for (const Flow& f : flows(work)) {
    if (route(f.from, f.to).empty() && slice.stalled.empty()) {
      slice.stalled =
          fmt::format("no route from chip {} to chip {}", chips_[static_cast<std::size_t>(f.from)]->identity().serial,
                      chips_[static_cast<std::size_t>(f.to)]->identity().serial);
    }
  }
  // Time of one collective: the busiest link relative to its effective
  // bandwidth; per receiving chip, the busiest link into it.
  const double frame_bits = (kFramePayloadBytes + kFrameOverheadBytes) * 8;
  const double latency = latency_steps(work.op) * kHopLatencyS * static_cast<double>(max_hops);
  auto frame_error = per_link(0.0);
  double slowest = 0;
  std::vector<double> slowest_into(static_cast<std::size_t>(n), 0.0);
  for (int c = 0; c < n; ++c) {
    for (int l = 0; l < links(c); ++l) {
      const double bytes = load[static_cast<std::size_t>(c)][static_cast<std::size_t>(l)];
      if (bytes <= 0) continue;
      const SimChip& tx = *chips_[static_cast<std::size_t>(c)];
      const LinkEnd rx = peer(c, l);
      if (!tx.link_up(l) && slice.stalled.empty()) {
        slice.stalled = fmt::format("link {} of chip {} is down", l, tx.identity().serial);
      }
      const double ber = chips_[static_cast<std::size_t>(rx.chip)]->faults().link_ber(rx.link);
      const double p = ber > 0 ? -std::expm1(frame_bits * std::log1p(-ber)) : 0.0;
      frame_error[static_cast<std::size_t>(c)][static_cast<std::size_t>(l)] = p;
      // Every bad frame is sent again: goodput is (1 − p) of the wire rate.
      const double goodput =
          tx.link_bandwidth_gbps(l) * 1e9 * kFramePayloadBytes / (kFramePayloadBytes + kFrameOverheadBytes) * (1.0 - p);
      const double t = goodput > 0 ? bytes / goodput : INFINITY;
      slowest = std::max(slowest, t);
      auto& into = slowest_into[static_cast<std::size_t>(rx.chip)];
      into = std::max(into, t);
    }
  }
  double seconds = latency + slowest;

  auto traffic = per_link(LinkTraffic{});
  if (!slice.stalled.empty() || !std::isfinite(seconds) || seconds <= 0) {
    if (slice.stalled.empty()) slice.stalled = "no link can carry the traffic";
    for (int c = 0; c < n; ++c)
      chips_[static_cast<std::size_t>(c)]->communicate(dt, traffic[static_cast<std::size_t>(c)]);
    return slice;
  }
  slice.seconds_per_collective = seconds;
  slice.collectives = dt.count() / seconds;
  slice.algbw_gbps = static_cast<double>(work.bytes) / seconds / 1e9;
  slice.busbw_gbps = slice.algbw_gbps * busbw_factor(work.op, n);
  for (int c = 0; c < n; ++c) {
    const double into = slowest_into[static_cast<std::size_t>(c)];
    const double own = into > 0 ? latency + into : seconds;
    const double algbw = static_cast<double>(work.bytes) / own / 1e9;
    slice.chip_algbw_gbps.push_back(algbw);
    slice.chip_busbw_gbps.push_back(algbw * busbw_factor(work.op, n));
  }

  // Traffic, CRC errors (at the receiver) and the errors the CRC missed.
  auto escapes = per_link(std::uint64_t{0});
  for (int c = 0; c < n; ++c) {
    for (int l = 0; l < links(c); ++l) {
      const double bytes = load[static_cast<std::size_t>(c)][static_cast<std::size_t>(l)] * slice.collectives;
      if (bytes <= 0) continue;
      const LinkEnd rx = peer(c, l);
      traffic[static_cast<std::size_t>(c)][static_cast<std::size_t>(l)].sent_bytes = bytes;
      auto& out = slice.links[static_cast<std::size_t>(c)][static_cast<std::size_t>(l)];
      out.sent_bytes = bytes;
      out.gbps = bytes / dt.count() / 1e9;
      const double p = frame_error[static_cast<std::size_t>(c)][static_cast<std::size_t>(l)];
      if (p <= 0) continue;
      SimRandom& rng = chips_[static_cast<std::size_t>(rx.chip)]->port(rx.link).rng;
      const double frames = bytes / kFramePayloadBytes;
      const std::uint64_t bad = rng.poisson(frames * p / (1.0 - p));
      traffic[static_cast<std::size_t>(rx.chip)][static_cast<std::size_t>(rx.link)].crc_errors += bad;
      auto& rx_out = slice.links[static_cast<std::size_t>(rx.chip)][static_cast<std::size_t>(rx.link)];
      rx_out.crc_errors += bad;
      rx_out.retransmits += bad;
      escapes[static_cast<std::size_t>(rx.chip)][static_cast<std::size_t>(rx.link)] =
          rng.poisson(static_cast<double>(bad) * kCrcEscapeProbability);
    }
  }
  if (work.check) run_collective_data(*this, chips_, work.op, std::move(escapes), slice);
  for (int c = 0; c < n; ++c)
    chips_[static_cast<std::size_t>(c)]->communicate(dt, traffic[static_cast<std::size_t>(c)]);
  return slice;
}

Result<std::unique_ptr<SimFabric>> make_sim_fabric(const RackSpec& rack,
                                                   const std::vector<std::unique_ptr<Chip>>& chips) {
  if (rack.backend != Backend::sim) {
    return make_error(ErrorCode::invalid_argument, "rack '{}' has backend {}, not sim", rack.id,
                      to_string(rack.backend));
  }
  std::vector<Chip*> raw;
  raw.reserve(chips.size());
  for (const auto& chip : chips) raw.push_back(chip.get());
  return SimFabric::make(rack.topology, raw);
}

}  // namespace kiln::device
