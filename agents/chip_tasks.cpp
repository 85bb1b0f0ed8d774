#include "agents/chip_tasks.hpp"

#include <algorithm>
#include <exception>
#include <memory>

#include <spdlog/spdlog.h>
#include <boost/fiber/fiber.hpp>
#include <boost/fiber/protected_fixedsize_stack.hpp>

namespace kiln::agent {

bool ChipTask::ended() const {
  std::lock_guard lock(mutex_);
  return ended_;
}

void ChipTask::wait_ended() const {
  std::unique_lock lock(mutex_);
  ended_cv_.wait(lock, [this] { return ended_; });
}

void ChipTask::set_ended() {
  {
    std::lock_guard lock(mutex_);
    ended_ = true;
  }
  ended_cv_.notify_all();
}

ChipTasks::ChipTasks(ChipLoops loops) : loops_(loops) {
  if (loops_ == ChipLoops::fibers) fiber_thread_ = std::thread([this] { run_fibers(); });
}

ChipTasks::~ChipTasks() { join_all(); }

void ChipTasks::run(const std::function<void(std::stop_token)>& body, ChipTask& task,
                    const std::shared_ptr<ChipTask>& after) {
  // The thread or fiber boundary: nothing may escape it.
  try {
    if (after) after->wait_ended();
    body(task.stop_token());
  } catch (const std::exception& e) {
    spdlog::critical("a chip loop failed: {}", e.what());
  } catch (...) {
    spdlog::critical("a chip loop failed");
  }
  task.set_ended();
}

std::shared_ptr<ChipTask> ChipTasks::launch(std::function<void(std::stop_token)> body,
                                            std::shared_ptr<ChipTask> after) {
  auto task = std::make_shared<ChipTask>();
  if (loops_ == ChipLoops::thread_per_chip) {
    // Join the threads that are done, so that a long-lived agent does not collect them.
    for (auto& [ended, thread] : threads_) {
      if (ended->ended() && thread.joinable()) thread.join();
    }
    std::erase_if(threads_, [](const auto& entry) { return !entry.second.joinable(); });
    threads_.emplace_back(
        task, std::thread([body = std::move(body), task, after = std::move(after)] { run(body, *task, after); }));
    return task;
  }
  launches_.push([body = std::move(body), task, after = std::move(after)] { run(body, *task, after); });
  return task;
}

void ChipTasks::run_fibers() {
  // The thread's own fiber takes launches up and starts them; it waits for
  // the next one while the chip fibers run, and at close for all of them.
  std::size_t live = 0;
  ChipMutex mutex;
  ChipCondition all_ended;
  Launch launch;
  while (launches_.pop(launch) == boost::fibers::channel_op_status::success) {
    {
      std::lock_guard lock(mutex);
      ++live;
    }
    boost::fibers::fiber(std::allocator_arg, boost::fibers::protected_fixedsize_stack(kFiberStackBytes),
                         [&, launch = std::move(launch)]() mutable {
                           {
                             Launch running = std::move(launch);
                             running();
                           }  // its captures (the chip's phase) are let go before it counts as ended
                           {
                             std::lock_guard lock(mutex);
                             --live;
                           }
                           all_ended.notify_all();
                         })
        .detach();
  }
  std::unique_lock lock(mutex);
  all_ended.wait(lock, [&] { return live == 0; });
}

void ChipTasks::join_all() {
  if (joined_) return;
  joined_ = true;
  if (loops_ == ChipLoops::fibers) {
    launches_.close();
    if (fiber_thread_.joinable()) fiber_thread_.join();
    return;
  }
  for (auto& [task, thread] : threads_) {
    if (thread.joinable()) thread.join();
  }
  threads_.clear();
}

}  // namespace kiln::agent
