#include "daemon/agent_directory.hpp"

namespace kiln::daemon {

std::shared_ptr<Session> AgentDirectory::register_rack(const std::shared_ptr<Session>& session,
                                                       kiln::v1::RegisterRack registration) {
  const std::string rack = registration.rack();
  std::shared_ptr<Session> previous;
  if (auto it = racks_.find(rack); it != racks_.end()) {
    previous = it->second.session.lock();
    if (previous.get() == session.get()) previous.reset();
  }
  racks_[rack] = ConnectedRack{session, session.get(), std::move(registration)};
  return previous;
}

std::optional<std::string> AgentDirectory::remove_session(const Session& session) {
  for (auto it = racks_.begin(); it != racks_.end(); ++it) {
    if (it->second.identity == &session) {
      std::string rack = it->first;
      racks_.erase(it);
      return rack;
    }
  }
  return std::nullopt;
}

const ConnectedRack* AgentDirectory::find(const std::string& rack) const {
  auto it = racks_.find(rack);
  return it == racks_.end() ? nullptr : &it->second;
}

std::vector<std::string> AgentDirectory::racks() const {
  std::vector<std::string> names;
  for (const auto& [name, rack] : racks_) names.push_back(name);
  return names;
}

bool AgentDirectory::send(const std::string& rack, kiln::v1::Envelope envelope) const {
  const ConnectedRack* r = find(rack);
  if (r == nullptr) return false;
  auto session = r->session.lock();
  if (!session || !session->is_open()) return false;
  session->send(std::move(envelope));
  return true;
}

}  // namespace kiln::daemon
