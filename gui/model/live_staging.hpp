#pragma once
// Where the network thread leaves what arrived for the GUI thread: live
// updates, replies to requests and the connection's state. The network
// thread appends under a short lock (moving, never copying or merging); the
// GUI thread's refresh timer takes everything at once and applies it
// outside the lock. Qt-free.

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "schema/kiln.pb.h"

namespace kiln::gui {

enum class LinkPhase { disconnected, connecting, connected, reconnecting };
const char* to_string(LinkPhase phase);

struct LinkState {
  LinkPhase phase = LinkPhase::disconnected;
  std::string endpoint;  // host:port
  std::string detail;    // why it is not connected, or the daemon's version
  int attempt = 0;       // reconnect attempts since the link was last up
  std::int64_t next_try_unix_ms = 0;
};

struct Reply {
  std::uint64_t request_id = 0;
  kiln::v1::Envelope envelope;  // QueryReply joined, SubmitRunReply or ErrorReply
};

struct Staged {
  std::vector<kiln::v1::LiveUpdate> updates;
  std::vector<Reply> replies;
  std::optional<LinkState> link;  // set when it changed
  bool empty() const { return updates.empty() && replies.empty() && !link; }
};

class LiveStaging {
 public:
  void push_update(kiln::v1::LiveUpdate update);
  void push_reply(Reply reply);
  void set_link(LinkState state);
  Staged take();
  // Frames the GUI thread has applied: freed by the network thread when it
  // next stages one, so 16,384 chips' worth of messages are not torn down
  // on the GUI thread.
  void give_back(std::vector<kiln::v1::LiveUpdate> applied);
  LinkState link() const;

 private:
  mutable std::mutex mutex_;
  Staged staged_;
  std::vector<kiln::v1::LiveUpdate> applied_;
  LinkState link_;
};

}  // namespace kiln::gui
