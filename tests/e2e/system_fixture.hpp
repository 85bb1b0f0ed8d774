#pragma once
// What the system tests share: a scratch directory per test and the real
// binaries run as a shell user runs them, with their exit status, stdout and
// stderr.
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace kiln::e2e {

namespace fs = std::filesystem;

struct Outcome {
  int status = -1;
  std::string out;
  std::string err;
};

inline std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class System : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device entropy;
    dir_ = fs::temp_directory_path() / ("kiln-e2e-" + std::to_string(entropy()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  Outcome run(const std::string& command) {
    const fs::path out = dir_ / "stdout", err = dir_ / "stderr";
    const std::string full = "cd '" + std::string(KILN_SOURCE_DIR) + "' && " + command + " >'" + out.string() +
                             "' 2>'" + err.string() + "' </dev/null";
    const int raw = std::system(full.c_str());
    Outcome o;
    o.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    o.out = slurp(out);
    o.err = slurp(err);
    return o;
  }
  std::string bin(const std::string& name) { return std::string(KILN_BIN_DIR) + "/" + name; }

  fs::path dir_;
};

}  // namespace kiln::e2e
