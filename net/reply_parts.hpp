#pragma once
// Replies in several parts (QueryReply.more, docs/protocol.md): the daemon
// splits a reply that would not fit one frame, the client joins the parts.
// Bodies are concatenated; typed parts are merged with protobuf's merge, so
// their repeated fields concatenate and a part never needs to be whole.
// Pure: envelopes in, envelopes out.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "core/result.hpp"
#include "schema/kiln.pb.h"

namespace kiln::net {

// Well under wire::kMaxFrameBytes, so a part and its envelope always fit.
inline constexpr std::size_t kDefaultPartBytes = std::size_t{1} << 20;

class ReplyJoiner {
 public:
  // What all replies being joined may hold together; a reply that grows
  // beyond it fails (a client's memory is not the daemon's to fill).
  static constexpr std::size_t kDefaultMaxBytes = std::size_t{1} << 30;

  explicit ReplyJoiner(std::size_t max_bytes = kDefaultMaxBytes) : max_bytes_(max_bytes) {}

  // One reply envelope (request_id set). nullopt: a part with more to
  // come, kept. An envelope: the whole reply, joined with its earlier parts.
  // unavailable: the parts held would exceed max_bytes; this reply's
  // parts are dropped.
  Result<std::optional<kiln::v1::Envelope>> add(kiln::v1::Envelope part);
  // Drops what is held for a request (it was failed or abandoned).
  void forget(std::uint64_t request_id);
  void clear();
  std::size_t bytes() const { return bytes_; }

 private:
  struct Partial {
    kiln::v1::Envelope joined;
    std::size_t bytes = 0;
  };
  std::map<std::uint64_t, Partial> partial_;
  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
};

// The replies to send for `reply`: itself when it fits `max_part_bytes`,
// else parts, each but the last with more = true. A body is cut into
// pieces; a typed telemetry reply between its series, and a series longer
// than a part between its points; typed roll-ups between their series.
// Other typed replies are small and go whole.
std::vector<kiln::v1::QueryReply> split_reply(kiln::v1::QueryReply reply,
                                              std::size_t max_part_bytes = kDefaultPartBytes);

}  // namespace kiln::net
