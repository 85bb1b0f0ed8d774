#include "device/sim/sim_fabric.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <utility>

#include <fmt/format.h>

#include "device/sim/collective_data.hpp"

namespace kiln::device {
namespace {

std::size_t ix(int i) { return static_cast<std::size_t>(i); }

}  // namespace

Wiring wire_topology(Topology topology, int n, int links) {
  Wiring wiring(static_cast<std::size_t>(n), std::vector<LinkEnd>(static_cast<std::size_t>(std::max(0, links))));
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
  const std::vector<bool> everyone(chips_.size(), true);
  std::vector<std::vector<bool>> cabled(wiring_.size());
  for (std::size_t c = 0; c < wiring_.size(); ++c) {
    for (const LinkEnd& far : wiring_[c]) cabled[c].push_back(far.wired());
  }
  // Chips the topology leaves unjoined (a rack of one) form groups of their
  // own; the whole rack's routes are those of its first group, which then
  // holds every chip.
  auto groups = form_groups(wiring_, everyone, cabled);
  if (groups.size() == 1) whole_ = std::move(groups.front());
  if (whole_.ranks() != chip_count()) {
    whole_.chips.clear();
    for (int c = 0; c < chip_count(); ++c) whole_.chips.push_back(c);
    whole_.routes.assign(ix(chip_count() * chip_count()), {});
  }
  static_assert(static_cast<std::size_t>(CollectiveOp::sendrecv) + 1 ==
                std::tuple_size_v<decltype(whole_peak_busbw_gbps_)>);
  // The whole rack's peaks never change (its SKUs and cables are fixed);
  // every slice reports one, so each is worked out here once.
  for (const CollectiveOp op : {CollectiveOp::allreduce, CollectiveOp::allgather, CollectiveOp::reduce_scatter,
                                CollectiveOp::alltoall, CollectiveOp::sendrecv}) {
    whole_peak_busbw_gbps_[static_cast<std::size_t>(op)] = peak_busbw_gbps(op, whole_);
  }
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

std::vector<SimFabric::Flow> SimFabric::flows(const CollectiveWork& work, int n) const {
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

std::vector<std::vector<double>> SimFabric::link_loads(const CollectiveWork& work, const Formation& group,
                                                       std::size_t* max_hops) const {
  std::vector<std::vector<double>> load(wiring_.size());
  for (std::size_t c = 0; c < wiring_.size(); ++c) load[c].assign(wiring_[c].size(), 0.0);
  std::size_t hops = 0;
  for (const Flow& f : flows(work, group.ranks())) {
    const auto& path = group.route(f.from, f.to);
    hops = std::max(hops, path.size());
    for (const LinkEnd& hop : path) load[ix(hop.chip)][ix(hop.link)] += f.bytes;
  }
  if (max_hops != nullptr) *max_hops = hops;
  return load;
}

const SimFabric::GroupLoads& SimFabric::formed_group_loads(const CollectiveWork& work, const Formation& group) {
  const auto key = std::make_tuple(work.op, work.bytes, &group);
  if (const auto found = formed_loads_.find(key); found != formed_loads_.end()) return found->second;
  if (formed_loads_.size() >= kKeptGroupLoads) formed_loads_.clear();
  GroupLoads loads;
  loads.load = link_loads(work, group, &loads.max_hops);
  return formed_loads_.emplace(key, std::move(loads)).first->second;
}

namespace {

int latency_steps(CollectiveOp op, int n) {
  switch (op) {
    case CollectiveOp::allreduce: return 2 * (n - 1);
    case CollectiveOp::allgather:
    case CollectiveOp::reduce_scatter: return n - 1;
    case CollectiveOp::alltoall:
    case CollectiveOp::sendrecv: return 1;
  }
  return 1;
}

}  // namespace

double SimFabric::nominal_seconds(const CollectiveWork& work, const Formation& group) const {
  std::size_t max_hops = 0;
  const auto load = link_loads(work, group, &max_hops);
  double slowest = 0;
  for (const int c : group.chips) {
    const double goodput = chips_[ix(c)]->sku().link_bandwidth_gbps * 1e9 * kFramePayloadBytes /
                           (kFramePayloadBytes + kFrameOverheadBytes);
    for (const double bytes : load[ix(c)]) {
      if (bytes <= 0) continue;
      if (goodput <= 0) return 0;
      slowest = std::max(slowest, bytes / goodput);
    }
  }
  if (slowest <= 0) return 0;
  return latency_steps(work.op, group.ranks()) * kHopLatencyS * static_cast<double>(max_hops) + slowest;
}

double SimFabric::peak_busbw_gbps(CollectiveOp op, const Formation& group) const {
  const int n = group.ranks();
  if (n < 2) return 0;
  CollectiveWork work;
  work.op = op;
  work.bytes = 1ULL << 30;
  const auto load = link_loads(work, group, nullptr);
  double slowest = 0;
  for (const int c : group.chips) {
    const double nominal = chips_[ix(c)]->sku().link_bandwidth_gbps * 1e9;
    for (const double bytes : load[ix(c)]) {
      if (bytes <= 0) continue;
      if (nominal <= 0) return 0;
      slowest = std::max(slowest, bytes / nominal);
    }
  }
  if (slowest <= 0) return 0;
  return static_cast<double>(work.bytes) / slowest / 1e9 * busbw_factor(op, n);
}

std::string SimFabric::isolation(int c, const std::vector<std::string>& absent,
                                 const std::vector<bool>& taking_part) const {
  std::string why;
  const auto& ports = wiring_[ix(c)];
  for (int l = 0; l < static_cast<int>(ports.size()); ++l) {
    const LinkEnd far = ports[ix(l)];
    if (!far.wired()) continue;
    const std::string& serial = chips_[ix(far.chip)]->identity().serial;
    std::string state;
    if (!absent[ix(far.chip)].empty()) {
      state = fmt::format("link {} to {}, which took no part ({})", l, serial, absent[ix(far.chip)]);
    } else if (!taking_part[ix(far.chip)]) {
      state = fmt::format("link {} to {}, which is hung", l, serial);
    } else {
      state = fmt::format("link {} to {}, which is down", l, serial);
    }
    why += (why.empty() ? "" : ", ") + state;
  }
  if (why.empty()) return "no link of this chip is wired to another chip";
  return "no working link to a chip taking part: " + why;
}

double SimFabric::frame_error_at(int chip, int link) const {
  const LinkEnd rx = peer(chip, link);
  const double ber = chips_[ix(rx.chip)]->faults().link_ber(rx.link);
  const double frame_bits = (kFramePayloadBytes + kFrameOverheadBytes) * 8;
  return ber > 0 ? -std::expm1(frame_bits * std::log1p(-ber)) : 0.0;
}

void SimFabric::run_group(const CollectiveWork& work, const Formation& formation,
                          const std::vector<std::vector<bool>>& usable, std::vector<std::vector<LinkTraffic>>& traffic,
                          std::vector<std::vector<std::uint64_t>>& escapes, CollectiveSlice& slice) {
  const int m = formation.ranks();
  CollectiveGroup group;
  group.chips = formation.chips;
  group.reformed = m != chip_count() || !slice.reformed.empty();
  group.peak_busbw_gbps = group.reformed ? peak_busbw_gbps(work.op, formation) : slice.peak_busbw_gbps;

  // Time of one collective: the busiest link relative to its effective
  // bandwidth; per receiving chip, the busiest link into it.
  const GroupLoads& loads = formed_group_loads(work, formation);
  const auto& load = loads.load;
  const double latency = latency_steps(work.op, m) * kHopLatencyS * static_cast<double>(loads.max_hops);
  // Per (sending chip, link): the share of bad frames; per receiving chip:
  // its slowest link in (NaN: none). Scratch kept across slices.
  std::size_t most_links = 0;
  for (const auto& ports : wiring_) most_links = std::max(most_links, ports.size());
  std::vector<double>& frame_error = frame_error_scratch_;
  frame_error.assign(wiring_.size() * most_links, 0.0);
  const auto link_at = [most_links](int c, int l) { return ix(c) * most_links + ix(l); };
  std::vector<double>& slowest_into = slowest_into_scratch_;
  slowest_into.assign(wiring_.size(), std::numeric_limits<double>::quiet_NaN());
  double slowest = 0;
  for (const int c : formation.chips) {
    for (int l = 0; l < static_cast<int>(load[ix(c)].size()); ++l) {
      const double bytes = load[ix(c)][ix(l)];
      if (bytes <= 0) continue;
      const SimChip& tx = *chips_[ix(c)];
      const LinkEnd rx = peer(c, l);
      const double p = frame_error_at(c, l);
      frame_error[link_at(c, l)] = p;
      // Every bad frame is sent again: goodput is (1 − p) of the wire rate.
      const double goodput =
          tx.link_bandwidth_gbps(l) * 1e9 * kFramePayloadBytes / (kFramePayloadBytes + kFrameOverheadBytes) * (1.0 - p);
      const double t = goodput > 0 ? bytes / goodput : INFINITY;
      slowest = std::max(slowest, t);
      double& into = slowest_into[ix(rx.chip)];
      into = std::isnan(into) ? t : std::max(into, t);
    }
  }
  const double seconds = latency + slowest;
  const int index = static_cast<int>(slice.groups.size());
  if (!std::isfinite(seconds) || seconds <= 0) {
    for (const int c : formation.chips) slice.idle[ix(c)] = "no link of its group can carry the traffic";
    slice.groups.push_back(std::move(group));
    return;
  }
  for (const int c : formation.chips) slice.chip_group[ix(c)] = index;
  group.seconds_per_collective = seconds;
  group.collectives = slice.elapsed.count() / seconds;
  group.algbw_gbps = static_cast<double>(work.bytes) / seconds / 1e9;
  group.busbw_gbps = group.algbw_gbps * busbw_factor(work.op, m);
  // A re-formed group's chips are judged against the whole rack's peak:
  // their times are scaled by what the re-forming costs at nominal rates
  // (longer paths, more data per cable, more hop latency), so that a chip
  // whose links are healthy shows what it would in the whole rack.
  if (group.reformed) {
    const double whole = nominal_seconds(work, whole_), here = nominal_seconds(work, formation);
    if (whole > 0 && here > 0) group.scale = here / whole;
  }
  for (const int c : formation.chips) {
    const double into = slowest_into[ix(c)];
    const double own = !std::isnan(into) ? latency + into : seconds;
    const double algbw = static_cast<double>(work.bytes) / own / 1e9;
    if (group.reformed) {
      slice.chip_algbw_gbps[ix(c)] = algbw * group.scale;
      slice.chip_busbw_gbps[ix(c)] = slice.chip_algbw_gbps[ix(c)] * busbw_factor(work.op, chip_count());
    } else {
      slice.chip_algbw_gbps[ix(c)] = algbw;
      slice.chip_busbw_gbps[ix(c)] = algbw * busbw_factor(work.op, chip_count());
    }
  }

  // Traffic, CRC errors (at the receiver) and the errors the CRC missed.
  // A working cable direction the algorithm leaves idle (sendrecv's way
  // back, a torus's unused dimension, a ring of two's second cable) carries
  // a link test stream at its full rate meanwhile, its data checked too:
  // every link of the group is tested both ways, whatever the op and
  // topology. It is not part of the collective, so no figure counts it.
  std::vector<LinkEnd> probes;
  for (const int c : formation.chips) {
    for (int l = 0; l < static_cast<int>(load[ix(c)].size()); ++l) {
      double bytes = load[ix(c)][ix(l)] * group.collectives;
      if (bytes <= 0 && !usable[ix(c)][ix(l)]) continue;
      const double p = bytes > 0 ? frame_error[link_at(c, l)] : frame_error_at(c, l);
      if (bytes <= 0) {
        bytes = chips_[ix(c)]->link_bandwidth_gbps(l) * 1e9 * kFramePayloadBytes /
                (kFramePayloadBytes + kFrameOverheadBytes) * (1.0 - p) * slice.elapsed.count();
        if (!(bytes > 0)) continue;
        probes.push_back(LinkEnd{c, l});
      }
      const LinkEnd rx = peer(c, l);
      traffic[ix(c)][ix(l)].sent_bytes = bytes;
      auto& out = slice.links[ix(c)][ix(l)];
      out.sent_bytes = bytes;
      out.gbps = bytes / slice.elapsed.count() / 1e9;
      if (p <= 0) continue;
      SimRandom& rng = chips_[ix(rx.chip)]->port(rx.link).rng;
      const double frames = bytes / kFramePayloadBytes;
      const std::uint64_t bad = rng.poisson(frames * p / (1.0 - p));
      traffic[ix(rx.chip)][ix(rx.link)].crc_errors += bad;
      auto& rx_out = slice.links[ix(rx.chip)][ix(rx.link)];
      rx_out.crc_errors += bad;
      rx_out.retransmits += bad;
      escapes[ix(rx.chip)][ix(rx.link)] = rng.poisson(static_cast<double>(bad) * kCrcEscapeProbability);
    }
  }
  if (work.check) run_collective_data(*this, formation, probes, chips_, work.op, escapes, slice, data_mode_);
  slice.groups.push_back(std::move(group));
}

Result<CollectiveSlice> SimFabric::run_collective(const CollectiveWork& work, Seconds dt,
                                                  const std::vector<std::string>& absent) {
  const int n = chip_count();
  if (n < 2) return make_error(ErrorCode::invalid_argument, "a collective needs at least 2 chips, the rack has {}", n);
  if (work.bytes == 0) return make_error(ErrorCode::invalid_argument, "a collective needs a size above 0 bytes");
  if (static_cast<int>(absent.size()) != n) {
    return make_error(ErrorCode::invalid_argument, "{} presence entries for a rack of {} chips", absent.size(), n);
  }
  CollectiveSlice slice;
  slice.elapsed = dt;
  slice.peak_busbw_gbps = peak_busbw_gbps(work.op);
  // Per chip and link: [c][l], sized by each chip's own link count.
  const auto per_link = [&](auto value) {
    std::vector<std::vector<decltype(value)>> out(ix(n));
    for (int c = 0; c < n; ++c) out[ix(c)].assign(wiring_[ix(c)].size(), value);
    return out;
  };
  slice.links = per_link(CollectiveLinkSlice{});
  slice.chip_algbw_gbps.assign(ix(n), 0.0);
  slice.chip_busbw_gbps.assign(ix(n), 0.0);
  slice.result_errors.assign(ix(n), 0);
  slice.chip_group.assign(ix(n), -1);
  slice.idle.assign(ix(n), "");

  // Who takes part, and which cables join them: an absent chip is not
  // touched at all; a hung one can neither send nor forward.
  std::vector<bool> taking_part(ix(n), false);
  for (int c = 0; c < n; ++c) {
    if (!absent[ix(c)].empty()) {
      slice.idle[ix(c)] = absent[ix(c)];
    } else if (chips_[ix(c)]->hung()) {
      slice.idle[ix(c)] = "chip hung";  // as its own step says it, so notes name it once
    } else {
      taking_part[ix(c)] = true;
    }
  }
  std::vector<std::vector<bool>> usable = per_link(false);
  std::string around;  // the cables routed round, each once
  for (int c = 0; c < n; ++c) {
    if (!absent[ix(c)].empty()) continue;
    const SimChip& chip = *chips_[ix(c)];
    for (int l = 0; l < chip.link_count(); ++l) {
      slice.links[ix(c)][ix(l)].up = chip.link_up(l);
      const LinkEnd far = peer(c, l);
      if (!taking_part[ix(c)]) continue;
      if (!far.wired() || !taking_part[ix(far.chip)]) continue;
      usable[ix(c)][ix(l)] = chip.link_up(l) && chips_[ix(far.chip)]->link_up(far.link);
      if (!usable[ix(c)][ix(l)] && c < far.chip) {
        around += fmt::format("{}link {} of {} (down)", around.empty() ? "" : ", ", l, chip.identity().serial);
      }
    }
  }
  if (formed_.empty() || taking_part != formed_taking_part_ || usable != formed_usable_) {
    formed_ = form_groups(wiring_, taking_part, usable);
    formed_loads_.clear();  // keyed by formed_'s groups
    formed_taking_part_ = taking_part;
    formed_usable_ = usable;
  }
  const std::vector<Formation>& formations = formed_;
  std::string without;  // the chips left out, and why
  for (int c = 0; c < n; ++c) {
    if (!slice.idle[ix(c)].empty()) {
      without +=
          fmt::format("{}{} ({})", without.empty() ? "" : ", ", chips_[ix(c)]->identity().serial, slice.idle[ix(c)]);
    }
  }
  for (const Formation& f : formations) {
    if (f.ranks() != 1) continue;
    const int c = f.chips.front();
    slice.idle[ix(c)] = isolation(c, absent, taking_part);
    without += fmt::format("{}{} (no working link to a chip taking part)", without.empty() ? "" : ", ",
                           chips_[ix(c)]->identity().serial);
  }
  if (!without.empty()) slice.reformed = "without " + without;
  if (!around.empty()) slice.reformed += (slice.reformed.empty() ? "around " : "; around ") + around;
  if (slice.reformed.empty() && formations.size() > 1)
    slice.reformed = "in parts: the rack's cables do not join every chip";

  auto traffic = per_link(LinkTraffic{});
  auto escapes = per_link(std::uint64_t{0});
  for (const Formation& f : formations) {
    if (f.ranks() >= 2) run_group(work, f, usable, traffic, escapes, slice);
  }
  // The rack's figures are the largest group's that ran.
  const CollectiveGroup* largest = nullptr;
  for (const auto& g : slice.groups) {
    if (g.collectives > 0 && (largest == nullptr || g.chips.size() > largest->chips.size())) largest = &g;
  }
  if (largest != nullptr) {
    slice.seconds_per_collective = largest->seconds_per_collective;
    slice.collectives = largest->collectives;
    slice.algbw_gbps = largest->algbw_gbps;
    slice.busbw_gbps = largest->busbw_gbps;
  } else {
    slice.stalled = "no two chips taking part are joined by a working link: " +
                    (slice.reformed.empty() ? std::string("no link can carry the traffic") : slice.reformed);
  }
  for (int c = 0; c < n; ++c) {
    if (absent[ix(c)].empty()) chips_[ix(c)]->communicate(dt, traffic[ix(c)]);
  }
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
