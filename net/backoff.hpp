#pragma once
// How long a client waits before it connects again: the first delay after
// a failure, doubling with every further failure up to a cap, and back to
// the first once a connection got as far as Welcome. Pure.

#include <chrono>

namespace kiln::net {

struct BackoffPolicy {
  std::chrono::milliseconds initial{250};
  std::chrono::milliseconds max{5000};
};

class Backoff {
 public:
  explicit Backoff(BackoffPolicy policy = {}) : policy_(policy) {}

  // Counts a failure and answers the delay before the next attempt.
  std::chrono::milliseconds next();
  // A connection succeeded: the next failure waits the initial delay again.
  void reset() { failures_ = 0; }
  // Failures since the last reset().
  int failures() const { return failures_; }

 private:
  BackoffPolicy policy_;
  int failures_ = 0;
};

}  // namespace kiln::net
