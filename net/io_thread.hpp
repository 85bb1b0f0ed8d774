#pragma once
// One io_context on a thread of its own (STYLE.md, Concurrency), for the
// clients' links. Stopping is the owner's business and is clean: it ends
// its work (closes its sockets, cancels its timers) and join() waits until
// the context has run out of it. An exception escaping a handler is logged
// and the loop goes on: it never takes the process down.
//
// Internal to kiln_net (it names Boost.Asio); clients see net/link.hpp.

#include <string>
#include <thread>

// <utility> first: Boost 1.74's awaitable.hpp uses std::exchange without including it.
#include <utility>

#include <boost/asio/io_context.hpp>

namespace kiln::net {

class IoThread {
 public:
  explicit IoThread(std::string name) : name_(std::move(name)) {}
  ~IoThread() { join(); }
  IoThread(const IoThread&) = delete;
  IoThread& operator=(const IoThread&) = delete;

  boost::asio::io_context& context() { return io_; }
  void start();
  // Returns once the context ran out of work; handlers posted after that
  // are run here, so that none is lost (each sees its owner stopped).
  void join();

 private:
  void run();

  std::string name_;
  boost::asio::io_context io_;
  std::thread thread_;
};

}  // namespace kiln::net
