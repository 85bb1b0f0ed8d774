#include "net/outgoing_queue.hpp"

#include <algorithm>

#include "schema/frame.hpp"

namespace kiln::net {

OutgoingQueue::OutgoingQueue(std::size_t max_bytes)
    : max_bytes_(std::max(max_bytes, wire::kFrameHeaderBytes + wire::kMaxFrameBytes)) {}

bool OutgoingQueue::push(std::string frame) {
  if (frame.size() > room()) return false;
  bytes_ += frame.size();
  frames_.push_back(std::move(frame));
  return true;
}

void OutgoingQueue::pop() {
  bytes_ -= frames_.front().size();
  frames_.pop_front();
}

void OutgoingQueue::clear() {
  frames_.clear();
  bytes_ = 0;
}

}  // namespace kiln::net
