#include "device/sim/collective_data.hpp"

#include <algorithm>
#include <numeric>
#include <span>

#include "device/sim/sim_fabric.hpp"

namespace kiln::device {
namespace {

using Buffer = std::vector<std::uint32_t>;

std::uint64_t checksum(std::span<const std::uint32_t> words) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (const auto w : words) h = (h ^ w) * 0x100000001b3ULL;
  return h;
}

class DataRun {
 public:
  DataRun(const SimFabric& fabric, const Formation& group, const std::vector<SimChip*>& chips,
          std::vector<std::vector<std::uint64_t>>& escapes, CollectiveSlice& out)
      : fabric_(fabric), group_(group), chips_(chips), escapes_(escapes), out_(out), n_(group.ranks()) {}

  void run(CollectiveOp op) {
    // Ring ops split the buffer over two rings (forward, backward) like
    // the timing model; each half holds n chunks.
    const bool two_rings =
        op == CollectiveOp::allreduce || op == CollectiveOp::allgather || op == CollectiveOp::reduce_scatter;
    chunk_ = std::max(1, kCollectiveCheckWords / n_ / (two_rings ? 2 : 1));
    words_ = chunk_ * n_ * (two_rings ? 2 : 1);
    input_.assign(static_cast<std::size_t>(n_), Buffer(static_cast<std::size_t>(words_)));
    for (int r = 0; r < n_; ++r) {
      for (auto& w : input_[static_cast<std::size_t>(r)])
        w = static_cast<std::uint32_t>(chip(r).collective_rng().next() >> 32);
    }
    buf_ = input_;
    if (out_.result_errors.size() < chips_.size()) out_.result_errors.resize(chips_.size(), 0);
    std::vector<int> forward(static_cast<std::size_t>(n_));
    std::iota(forward.begin(), forward.end(), 0);
    std::vector<int> backward(forward.rbegin(), forward.rend());
    switch (op) {
      case CollectiveOp::allreduce:
        ring_reduce_scatter(forward, 0);
        ring_allgather(forward, 0, 1);
        ring_reduce_scatter(backward, 1);
        ring_allgather(backward, 1, 1);
        check_allreduce();
        break;
      case CollectiveOp::reduce_scatter:
        ring_reduce_scatter(forward, 0);
        ring_reduce_scatter(backward, 1);
        check_reduce_scatter(forward, 0);
        check_reduce_scatter(backward, 1);
        break;
      case CollectiveOp::allgather:
        ring_allgather(forward, 0, 0);
        ring_allgather(backward, 1, 0);
        check_allgather(forward, 0);
        check_allgather(backward, 1);
        break;
      case CollectiveOp::alltoall: alltoall(); break;
      case CollectiveOp::sendrecv: sendrecv(); break;
    }
  }

 private:
  SimChip& chip(int rank) const {
    return *chips_[static_cast<std::size_t>(group_.chips[static_cast<std::size_t>(rank)])];
  }

  std::span<std::uint32_t> chunk(int rank, int half, int c) {
    auto& b = buf_[static_cast<std::size_t>(rank)];
    return {b.data() + static_cast<std::size_t>((half * n_ + c) * chunk_), static_cast<std::size_t>(chunk_)};
  }
  std::uint32_t in(int rank, int half, int c, int w) const {
    return input_[static_cast<std::size_t>(rank)][static_cast<std::size_t>((half * n_ + c) * chunk_ + w)];
  }

  // Moves `message` from rank `from` to rank `to` hop by hop; returns what
  // arrives (valid until the next send: one buffer serves every message).
  const Buffer& send(int from, int to, std::span<const std::uint32_t> message) {
    message_.assign(message.begin(), message.end());
    for (const LinkEnd& hop : group_.route(from, to)) cross(hop, message_);
    return message_;
  }

  // `data` crosses one hop (sending chip, link), checked at the receiver.
  void cross(LinkEnd hop, Buffer& data) {
    const std::uint64_t sent = checksum(data);
    const LinkEnd rx = fabric_.peer(hop.chip, hop.link);
    auto& pending = escapes_[static_cast<std::size_t>(rx.chip)][static_cast<std::size_t>(rx.link)];
    if (pending > 0 && !data.empty()) {
      --pending;
      SimRandom& rng = chips_[static_cast<std::size_t>(rx.chip)]->port(rx.link).rng;
      const std::size_t word = rng.next() % data.size();
      data[word] ^= std::uint32_t{1} << (rng.next() % 32);
    }
    if (checksum(data) != sent) record_mismatch(rx);
  }

 public:
  // One checked message of a chunk across each link that carried a link test stream.
  void probe(const std::vector<LinkEnd>& links) {
    for (const LinkEnd& hop : links) {
      Buffer message(static_cast<std::size_t>(chunk_));
      for (auto& w : message)
        w = static_cast<std::uint32_t>(chips_[static_cast<std::size_t>(hop.chip)]->collective_rng().next() >> 32);
      cross(hop, message);
    }
  }

 private:
  void record_mismatch(LinkEnd rx) {
    for (auto& m : out_.mismatches) {
      if (m.chip == rx.chip && m.link == rx.link) {
        ++m.count;
        return;
      }
    }
    out_.mismatches.push_back(CollectiveMismatch{rx.chip, rx.link, 1});
  }

  // After n − 1 steps, order[i] holds the full sum of chunk (i + 1) mod n.
  void ring_reduce_scatter(const std::vector<int>& order, int half) {
    for (int s = 0; s < n_ - 1; ++s) {
      for (int i = 0; i < n_; ++i) {
        const int from = order[static_cast<std::size_t>(i)], to = order[static_cast<std::size_t>((i + 1) % n_)];
        const int c = ((i - s) % n_ + n_) % n_;
        const Buffer& got = send(from, to, chunk(from, half, c));
        auto dst = chunk(to, half, c);
        for (int w = 0; w < chunk_; ++w) dst[static_cast<std::size_t>(w)] += got[static_cast<std::size_t>(w)];
      }
    }
  }

  // Circulates chunk (i + shift) mod n of order[i] until every rank has all.
  void ring_allgather(const std::vector<int>& order, int half, int shift) {
    for (int s = 0; s < n_ - 1; ++s) {
      for (int i = 0; i < n_; ++i) {
        const int from = order[static_cast<std::size_t>(i)], to = order[static_cast<std::size_t>((i + 1) % n_)];
        const int c = ((i + shift - s) % n_ + n_) % n_;
        const Buffer& got = send(from, to, chunk(from, half, c));
        std::copy(got.begin(), got.end(), chunk(to, half, c).begin());
      }
    }
  }

  // The reference sum of word w of chunk c of `half` over every rank's
  // input, computed once per slice (each rank compares against it).
  std::uint32_t sum(int half, int c, int w) {
    if (sums_.empty()) {
      sums_.assign(static_cast<std::size_t>(words_), 0);
      for (int r = 0; r < n_; ++r) {
        const Buffer& input = input_[static_cast<std::size_t>(r)];
        for (std::size_t i = 0; i < sums_.size(); ++i) sums_[i] += input[i];
      }
    }
    return sums_[static_cast<std::size_t>((half * n_ + c) * chunk_ + w)];
  }

  void compare(int rank, int half, int c, auto expected) {
    const auto got = chunk(rank, half, c);
    for (int w = 0; w < chunk_; ++w) {
      if (got[static_cast<std::size_t>(w)] != expected(w))
        ++out_.result_errors[static_cast<std::size_t>(group_.chips[static_cast<std::size_t>(rank)])];
    }
  }

  void check_allreduce() {
    for (int r = 0; r < n_; ++r) {
      for (int half = 0; half < 2; ++half) {
        for (int c = 0; c < n_; ++c) compare(r, half, c, [&](int w) { return sum(half, c, w); });
      }
    }
  }

  void check_reduce_scatter(const std::vector<int>& order, int half) {
    for (int i = 0; i < n_; ++i) {
      const int c = (i + 1) % n_;
      compare(order[static_cast<std::size_t>(i)], half, c, [&](int w) { return sum(half, c, w); });
    }
  }

  // order[j] contributed chunk j of its own input.
  void check_allgather(const std::vector<int>& order, int half) {
    for (int r = 0; r < n_; ++r) {
      for (int j = 0; j < n_; ++j)
        compare(r, half, j, [&](int w) { return in(order[static_cast<std::size_t>(j)], half, j, w); });
    }
  }

  // Rank r sends chunk t of its input to rank t, which stores it as chunk r.
  void alltoall() {
    for (int r = 0; r < n_; ++r) {
      for (int t = 0; t < n_; ++t) {
        if (t == r) continue;
        const Buffer& got = send(r, t,
                                 std::span<const std::uint32_t>(input_[static_cast<std::size_t>(r)])
                                     .subspan(static_cast<std::size_t>(t * chunk_), static_cast<std::size_t>(chunk_)));
        std::copy(got.begin(), got.end(), chunk(t, 0, r).begin());
      }
    }
    for (int t = 0; t < n_; ++t) {
      for (int r = 0; r < n_; ++r) compare(t, 0, r, [&](int w) { return in(r, 0, t, w); });
    }
  }

  // Rank r sends its whole buffer to r + 1.
  void sendrecv() {
    for (int r = 0; r < n_; ++r) {
      const int to = (r + 1) % n_;
      const Buffer& got = send(r, to, input_[static_cast<std::size_t>(r)]);
      buf_[static_cast<std::size_t>(to)] = got;
    }
    for (int t = 0; t < n_; ++t) {
      const int from = (t - 1 + n_) % n_;
      for (int c = 0; c < n_; ++c) compare(t, 0, c, [&](int w) { return in(from, 0, c, w); });
    }
  }

  const SimFabric& fabric_;
  const Formation& group_;
  const std::vector<SimChip*>& chips_;  // the rack's, by chip index
  std::vector<std::vector<std::uint64_t>>& escapes_;
  CollectiveSlice& out_;
  int n_;
  int chunk_ = 1;
  int words_ = 0;
  std::vector<Buffer> input_;
  std::vector<Buffer> buf_;
  Buffer message_;  // the message in flight
  Buffer sums_;     // Σ over ranks of input_, by word; empty until asked
};

}  // namespace

void run_collective_data(const SimFabric& fabric, const Formation& group, const std::vector<LinkEnd>& probes,
                         const std::vector<SimChip*>& chips, CollectiveOp op,
                         std::vector<std::vector<std::uint64_t>>& escapes, CollectiveSlice& out, CollectiveData mode) {
  bool any_escape = false;
  for (auto& per_chip : escapes) {
    for (auto& e : per_chip) {
      e = std::min<std::uint64_t>(e, kMaxFlipsPerPort);
      any_escape = any_escape || e > 0;
    }
  }
  // Only an escaped bit error changes data on its way (cross()): without
  // one, every checksum matches and every result equals its reference, so
  // running the algorithm would only confirm that. A slice with a flip
  // anywhere in the rack runs it in full, message by message.
  if (!any_escape && mode == CollectiveData::when_corrupted) {
    if (out.result_errors.size() < chips.size()) out.result_errors.resize(chips.size(), 0);
    return;
  }
  DataRun run(fabric, group, chips, escapes, out);
  run.run(op);
  run.probe(probes);
}

}  // namespace kiln::device
