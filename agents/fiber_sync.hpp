#pragma once
// What a chip loop waits on: a mutex, a condition and a sleep that suspend
// only the waiting chip, whether its loop runs on a thread of its own or as
// one of its rack's fibers (agents/chip_tasks.hpp). A std::mutex or
// std::condition_variable waited on by a fiber would stall every chip of
// the rack; Boost.Fiber's primitives suspend the fiber, and on a plain
// thread they block the thread as the std ones do. They also work across
// threads: the network thread notifies what a fiber waits for.
//
// A std::stop_token wakes every wait here, as std::condition_variable_any's
// waits with a stop_token do.

#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <stop_token>

#include <boost/fiber/condition_variable.hpp>
#include <boost/fiber/mutex.hpp>

#include "core/clock.hpp"

namespace kiln::agent {

using ChipMutex = boost::fibers::mutex;
using ChipCondition = boost::fibers::condition_variable_any;

namespace detail {

// Notifies `cv` once stop is requested. The notifier takes the mutex first,
// so that a waiter between its last look at the stop state and its wait
// cannot miss the notification; it does nothing until armed, because a stop
// already requested runs it at once, on the waiter's own thread, while the
// waiter holds the mutex (the waiter sees the stop itself).
class StopWake {
 public:
  StopWake(ChipCondition& cv, ChipMutex& mutex, const std::stop_token& stop)
      : cv_(cv), mutex_(mutex), callback_(std::in_place, stop, Notify{this}) {
    armed_.store(true);
  }
  // Must be called with the mutex unlocked: the notifier may be waiting for it.
  void disarm() { callback_.reset(); }

 private:
  struct Notify {
    StopWake* self;
    void operator()() const {
      if (!self->armed_.load()) return;
      { std::lock_guard lock(self->mutex_); }
      self->cv_.notify_all();
    }
  };
  ChipCondition& cv_;
  ChipMutex& mutex_;
  std::atomic<bool> armed_{false};
  std::optional<std::stop_callback<Notify>> callback_;
};

}  // namespace detail

// Waits until `done()` (true), a stop request or, when given, `deadline`
// (false unless done() holds then). `lock` holds the mutex on entry and on
// return, though it is let go for a moment on the way out: callers look at
// what they wait for again after it returns.
template <class Done>
bool wait_or_stop(ChipCondition& cv, std::unique_lock<ChipMutex>& lock, const std::stop_token& stop, Done done,
                  std::optional<SteadyClock::time_point> deadline = std::nullopt) {
  if (done()) return true;
  if (stop.stop_requested()) return false;
  detail::StopWake wake(cv, *lock.mutex(), stop);
  bool timed_out = false;
  while (!done() && !stop.stop_requested() && !timed_out) {
    if (deadline) {
      timed_out = cv.wait_until(lock, *deadline) == boost::fibers::cv_status::timeout;
    } else {
      cv.wait(lock);
    }
  }
  lock.unlock();
  wake.disarm();
  lock.lock();
  return done();
}

// Sleeps until `until` or a stop request; false when the stop woke it.
bool sleep_until(SteadyClock::time_point until, const std::stop_token& stop);

}  // namespace kiln::agent
