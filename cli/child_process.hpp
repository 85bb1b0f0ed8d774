#pragma once
// A child process that `kiln lab` starts and must stop: its own process group
// (a terminal's Ctrl-C reaches only kiln, which then stops its children in
// order), killed by the kernel if kiln dies, output appended to a log file.

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace kiln::cli {

class ChildProcess {
 public:
  static Result<ChildProcess> spawn(const std::string& program, const std::vector<std::string>& args,
                                    const std::string& log_path);
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;
  ~ChildProcess();

  pid_t pid() const { return pid_; }
  const std::string& name() const { return name_; }
  // Exit status if it has exited (without blocking).
  std::optional<int> poll();
  // SIGTERM, wait up to `grace`, then SIGKILL. Returns the exit status.
  int stop(std::chrono::milliseconds grace);

 private:
  ChildProcess(pid_t pid, std::string name) : pid_(pid), name_(std::move(name)) {}
  pid_t pid_ = -1;
  std::string name_;
  std::optional<int> status_;
};

}  // namespace kiln::cli
