#pragma once
// The frames a connection has yet to write, bounded in bytes.
//
// Policy when full: push() refuses the frame and queues nothing; the owner
// decides what that means. The agent keeps the data in its outbox (it only
// takes a batch when there is room: backpressure, nothing lost); the
// dashboard fails the request with "unavailable"; kilnd closes a session
// that does not read what it asked for. An empty queue always takes one
// frame of the protocol's largest size.

#include <cstddef>
#include <deque>
#include <string>

namespace kiln::net {

class OutgoingQueue {
 public:
  static constexpr std::size_t kDefaultMaxBytes = std::size_t{16} << 20;

  // Raised to one largest frame (header + wire::kMaxFrameBytes) if smaller.
  explicit OutgoingQueue(std::size_t max_bytes = kDefaultMaxBytes);

  // False, and nothing queued, when `frame` does not fit in room().
  bool push(std::string frame);
  const std::string& front() const { return frames_.front(); }
  void pop();
  void clear();

  bool empty() const { return frames_.empty(); }
  std::size_t size() const { return frames_.size(); }
  std::size_t bytes() const { return bytes_; }
  std::size_t room() const { return max_bytes_ - bytes_; }
  std::size_t max_bytes() const { return max_bytes_; }

 private:
  std::size_t max_bytes_;
  std::size_t bytes_ = 0;
  std::deque<std::string> frames_;
};

}  // namespace kiln::net
