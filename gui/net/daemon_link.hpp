#pragma once
// The dashboard's side of its connection to kilnd, over a net::Link on its
// own thread (the GUI thread never waits on the network): on every Welcome
// it subscribes to the live feed; it hands everything that arrives — live
// updates, replies, the link's state — to a LiveStaging for the GUI thread
// to collect. The link reconnects with a backoff (up to 5 s), also after a
// refusal, whose reason the dashboard shows. Requests may be sent from any
// thread; their replies come back through the staging with the id
// request() returned. Qt-free.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "core/endpoint.hpp"
#include "gui/model/live_staging.hpp"
#include "net/tls_options.hpp"
#include "schema/kiln.pb.h"

namespace kiln::gui {

struct LinkConfig {
  Endpoint endpoint;
  std::string credential;
  double max_hz = 4.0;  // live feed rate asked of the daemon
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds silence_timeout{10000};  // the daemon heartbeats every 2 s
  std::chrono::milliseconds max_backoff{5000};
  net::TlsClientOptions tls;  // --tls-ca [--tls-cert --tls-key], as for the CLI
};

class DaemonLink {
 public:
  explicit DaemonLink(LiveStaging& staging);
  ~DaemonLink();
  DaemonLink(const DaemonLink&) = delete;
  DaemonLink& operator=(const DaemonLink&) = delete;

  // (Re)starts the link with this configuration.
  void start(LinkConfig config);
  void stop();
  // Thread-safe. The reply (or an ErrorReply "unavailable" when the link is
  // down or goes down first) arrives in the staging under the returned id.
  std::uint64_t request(kiln::v1::Envelope envelope);

  class Worker;

 private:
  LiveStaging& staging_;
  // Ours, not the link's: ids stay unique across restarts of the link.
  std::atomic<std::uint64_t> next_request_id_{1};
  std::unique_ptr<Worker> worker_;
};

}  // namespace kiln::gui
