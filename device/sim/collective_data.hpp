#pragma once
// Real data for a collective slice: every rank fills a small buffer
// (kCollectiveCheckWords 32-bit words) from its own random stream, the
// collective's algorithm really runs on it, message by message, along the
// fabric's routes, and the results are compared with references computed
// straight from the inputs. The buffers stand for the slice's traffic the
// way the GEMM tile stands for a slice's GEMMs.
//
// Bit errors the link layer did not catch (SimFabric's CRC escapes) flip a
// bit of the message crossing that receiving port, so corruption is real:
// each hop's software checksum (sender's versus receiver's) catches it at
// the link it happened on, and the wrong words propagate into the results
// as a real reduction would propagate them. Data is uint32 with wrapping
// addition: exact and order-independent, so any difference is corruption.

#include <cstdint>
#include <vector>

#include "device/collective.hpp"
#include "device/sim/formation.hpp"
#include "device/sim/sim_chip.hpp"

namespace kiln::device {

class SimFabric;

inline constexpr int kCollectiveCheckWords = 1024;
inline constexpr std::uint32_t kMaxFlipsPerPort = 8;  // corrupted messages per port per slice

// Runs `op` once on real data among `group`'s ranks, over its routes on
// `fabric`, then sends one checked message across each of `probes` (sending
// chip, link: the links the op left idle, which carried a link test
// stream). `escapes[chip][link]` is how many corrupted frames the
// receiving port let through this slice (consumed here, at most
// kMaxFlipsPerPort each). Adds to out.mismatches and to out.result_errors
// (sized by the rack's chips) of the group's chips.
//
// CollectiveData::when_corrupted (the twin's): with no escape pending
// anywhere nothing can differ, so nothing is run and the inputs are drawn
// only for slices that carry a flip; `always` runs the algorithm on every
// slice (for tests of the algorithms themselves).
enum class CollectiveData { when_corrupted, always };
void run_collective_data(const SimFabric& fabric, const Formation& group, const std::vector<LinkEnd>& probes,
                         const std::vector<SimChip*>& chips, CollectiveOp op,
                         std::vector<std::vector<std::uint64_t>>& escapes, CollectiveSlice& out,
                         CollectiveData mode = CollectiveData::when_corrupted);

}  // namespace kiln::device
