#pragma once
// Who runs a simulated collective together, and along which paths.
//
// A rack's collective normally takes every chip over every cable. When a
// chip hangs or leaves, or a cable is down, the fabric re-forms it (as NCCL
// would after a lab re-cabled around a dead board): the chips still taking
// part that working cables join form one group each, and every message
// takes a shortest path over working cables inside its group. A chip left
// with no working cable to another one forms a group of one: nothing can
// test it.

#include <vector>

namespace kiln::device {

struct LinkEnd {
  int chip = -1;
  int link = -1;
  bool wired() const { return chip >= 0; }
};

// [chip][link] → far end.
using Wiring = std::vector<std::vector<LinkEnd>>;

struct Formation {
  std::vector<int> chips;                    // rank → chip index, in slot order
  std::vector<std::vector<LinkEnd>> routes;  // [from_rank * ranks + to_rank]: hops (sending chip, its link)

  int ranks() const { return static_cast<int>(chips.size()); }
  const std::vector<LinkEnd>& route(int from_rank, int to_rank) const {
    return routes[static_cast<std::size_t>(from_rank * ranks() + to_rank)];
  }
};

// The groups of the chips with `taking_part[chip]`, joined by the links
// with `usable[chip][link]`, in order of their first chip. The caller marks
// usable only links that work both ways between two chips taking part.
// Routes are breadth-first, links tried in index order, so the same inputs
// give the same routes (and the whole rack's are those it always had).
std::vector<Formation> form_groups(const Wiring& wiring, const std::vector<bool>& taking_part,
                                   const std::vector<std::vector<bool>>& usable);

}  // namespace kiln::device
