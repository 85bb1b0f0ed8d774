#pragma once
// The racks whose agents are connected now, with their chips. Owned by the
// io thread.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/session.hpp"
#include "schema/kiln.pb.h"

namespace kiln::daemon {

struct ConnectedRack {
  std::weak_ptr<Session> session;
  const Session* identity = nullptr;  // compares sessions even while one is closing
  kiln::v1::RegisterRack registration;
};

class AgentDirectory {
 public:
  // Replaces any earlier registration of the same rack; returns the session
  // it replaced, if still open (the caller closes it).
  std::shared_ptr<Session> register_rack(const std::shared_ptr<Session>& session, kiln::v1::RegisterRack registration);
  // The rack whose agent `session` was, if it was one (and still current).
  std::optional<std::string> remove_session(const Session& session);

  const ConnectedRack* find(const std::string& rack) const;
  std::vector<std::string> racks() const;
  bool send(const std::string& rack, kiln::v1::Envelope envelope) const;

 private:
  std::map<std::string, ConnectedRack> racks_;
};

}  // namespace kiln::daemon
