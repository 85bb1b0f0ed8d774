#pragma once
// One link port of a simulated chip: how it is wired (set by SimFabric) and
// the counters a run accumulates on it. The port belongs to its chip, so
// reading a chip's telemetry never touches another chip (chips may be
// driven from different threads); what it needs to know of the far end's
// faults is copied in when the rack is wired.

#include <cstdint>
#include <optional>

#include "core/units.hpp"
#include "device/sim_random.hpp"

namespace kiln::device {

struct SimLinkPort {
  // Wiring: the chip (index in its rack) and link at the far end; -1 when
  // the port is not wired (no SimFabric, or the topology leaves it unused).
  int peer_chip = -1;
  int peer_link = -1;
  std::optional<Seconds> peer_down_after;  // the far end's link_down
  double peer_bandwidth_factor = 1.0;      // the far end's link_degraded

  // Per run.
  SimRandom rng;                 // bit errors of data received on this port
  std::uint64_t crc_errors = 0;  // frames received with a bad CRC (each one retransmitted)
  std::uint64_t retransmits = 0;
  double gbps = 0;  // sent over the last slice, GB/s
};

}  // namespace kiln::device
