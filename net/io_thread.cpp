#include "net/io_thread.hpp"

#include <exception>

#include <spdlog/spdlog.h>

namespace kiln::net {

void IoThread::start() {
  if (thread_.joinable()) return;
  io_.restart();
  thread_ = std::thread([this] { run(); });
}

void IoThread::join() {
  if (!thread_.joinable()) return;
  thread_.join();
  io_.restart();
  run();
}

// The thread boundary: a handler's exception is logged, and the loop resumes.
void IoThread::run() {
  for (;;) {
    try {
      io_.run();
      return;
    } catch (const std::exception& e) {
      spdlog::error("{}: {}", name_, e.what());
    } catch (...) {
      spdlog::error("{}: unknown exception", name_);
    }
  }
}

}  // namespace kiln::net
