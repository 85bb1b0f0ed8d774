#include "device/sim/formation.hpp"

#include <algorithm>
#include <deque>

namespace kiln::device {
namespace {

std::size_t ix(int i) { return static_cast<std::size_t>(i); }

// From `from` over usable links: the hop (sending chip, link) that first
// reached each chip; via[from] and unreached chips stay unwired.
std::vector<LinkEnd> search(const Wiring& wiring, const std::vector<std::vector<bool>>& usable, int from) {
  std::vector<LinkEnd> via(wiring.size());
  std::vector<bool> seen(wiring.size(), false);
  seen[ix(from)] = true;
  std::deque<int> queue{from};
  while (!queue.empty()) {
    const int c = queue.front();
    queue.pop_front();
    const auto& ports = wiring[ix(c)];
    for (int l = 0; l < static_cast<int>(ports.size()); ++l) {
      const int next = ports[ix(l)].chip;
      if (next < 0 || seen[ix(next)] || !usable[ix(c)][ix(l)]) continue;
      seen[ix(next)] = true;
      via[ix(next)] = LinkEnd{c, l};
      queue.push_back(next);
    }
  }
  return via;
}

}  // namespace

std::vector<Formation> form_groups(const Wiring& wiring, const std::vector<bool>& taking_part,
                                   const std::vector<std::vector<bool>>& usable) {
  const int n = static_cast<int>(wiring.size());
  std::vector<Formation> groups;
  std::vector<bool> placed(wiring.size(), false);
  for (int first = 0; first < n; ++first) {
    if (!taking_part[ix(first)] || placed[ix(first)]) continue;
    const std::vector<LinkEnd> via = search(wiring, usable, first);
    Formation group;
    for (int c = 0; c < n; ++c) {
      if (c == first || via[ix(c)].wired()) {
        group.chips.push_back(c);
        placed[ix(c)] = true;
      }
    }
    const int m = group.ranks();
    group.routes.assign(ix(m * m), {});
    for (int from = 0; from < m; ++from) {
      const int source = group.chips[ix(from)];
      const std::vector<LinkEnd> paths = source == first ? via : search(wiring, usable, source);
      for (int to = 0; to < m; ++to) {
        if (to == from) continue;
        auto& path = group.routes[ix(from * m + to)];
        for (int c = group.chips[ix(to)]; c != source; c = paths[ix(c)].chip) path.push_back(paths[ix(c)]);
        std::reverse(path.begin(), path.end());
      }
    }
    groups.push_back(std::move(group));
  }
  return groups;
}

}  // namespace kiln::device
