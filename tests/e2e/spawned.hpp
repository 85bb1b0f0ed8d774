#pragma once
// A process started through the shell with its output on a pipe that a
// thread reads line by line, for system tests that wait on what a process
// logs (never on time); and owner-only files for tokens and credentials.
#include <signal.h>
#include <sys/types.h>

#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace kiln::e2e {

inline void write_private(const std::filesystem::path& path, const std::string& text) {
  std::ofstream(path) << text;
  std::filesystem::permissions(path, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
}

// A process started through the shell, its output read line by line;
// waits for a line matching a pattern.
class Spawned {
 public:
  explicit Spawned(const std::string& command) {
    pipe_ = popen(("echo $$; exec " + command + " 2>&1").c_str(), "r");
    if (pipe_ == nullptr) return;
    char line[4096];
    if (std::fgets(line, sizeof line, pipe_) != nullptr) pid_ = static_cast<pid_t>(std::stol(line));
    reader_ = std::thread([this] {
      char buffer[4096];
      while (std::fgets(buffer, sizeof buffer, pipe_) != nullptr) {
        std::lock_guard lock(mutex_);
        lines_.emplace_back(buffer);
        changed_.notify_all();
      }
      std::lock_guard lock(mutex_);
      ended_ = true;
      changed_.notify_all();
    });
  }
  ~Spawned() {
    if (pid_ > 0) kill(pid_, SIGTERM);
    if (reader_.joinable()) reader_.join();
    if (pipe_ != nullptr) pclose(pipe_);
  }
  // The first match of `pattern` in lines seen so far and to come, `count`
  // of them; empty when the process ended (or 60 s passed) first.
  std::vector<std::vector<std::string>> wait_for(const std::regex& pattern, std::size_t count = 1) {
    std::unique_lock lock(mutex_);
    std::vector<std::vector<std::string>> found;  // each match's groups, copied
    std::size_t seen = 0;
    changed_.wait_for(lock, std::chrono::seconds(60), [&] {
      for (; seen < lines_.size(); ++seen) {
        std::smatch m;
        if (std::regex_search(lines_[seen], m, pattern)) found.emplace_back(m.begin(), m.end());
      }
      return found.size() >= count || ended_;
    });
    if (found.size() < count) found.clear();
    return found;
  }
  std::string output() {
    std::lock_guard lock(mutex_);
    std::string all;
    for (const auto& l : lines_) all += l;
    return all;
  }

 private:
  FILE* pipe_ = nullptr;
  pid_t pid_ = 0;
  std::thread reader_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> lines_;
  bool ended_ = false;
};

}  // namespace kiln::e2e
