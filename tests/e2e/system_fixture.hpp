#pragma once
// What the system tests share: a scratch directory per test, the real
// binaries (kiln, kilnd, kiln-agent) run as a shell user runs them, with
// their exit status, stdout and stderr, and what the demo lab's smoke run
// must decide.
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace kiln::e2e {

namespace fs = std::filesystem;
using Json = nlohmann::json;

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

// The shipped lifecycle policy without automatic retests, written into
// `dir`: for tests that count runs, which retests of a failing chip add.
inline fs::path write_policy_without_retests(const fs::path& dir) {
  std::string policy = slurp(fs::path(KILN_SOURCE_DIR) / "lifecycle/default-policy.yaml");
  for (const std::string key : {"same_seed: ", "new_seeds: "}) {
    const std::size_t at = policy.find(key);
    if (at != std::string::npos) policy.replace(at + key.size(), policy.find('\n', at) - at - key.size(), "0");
  }
  const fs::path path = dir / "no-retests.yaml";
  std::ofstream(path) << policy;
  return path;
}

// The demo lab's smoke verdicts: the fifteen healthy chips pass, TRN-0205
// fails with class sdc at exactly its core and processing element.
inline void expect_demo_verdicts(const Json& chips) {
  ASSERT_EQ(chips.size(), 16u);
  int passed = 0;
  for (const auto& chip : chips) {
    if (chip["serial"] == "TRN-0205") {
      EXPECT_EQ(chip["verdict"], "fail");
      ASSERT_FALSE(chip["failures"].empty()) << chip.dump(2);
      for (const auto& f : chip["failures"]) {
        EXPECT_EQ(f["class"], "sdc");
        EXPECT_EQ(f["core"], 1);
        EXPECT_EQ(f["pe"], Json::array({12, 40}));
        EXPECT_EQ(f["bit"], 22);
        EXPECT_EQ(f["step"], "gemm-bf16");
      }
    } else {
      EXPECT_EQ(chip["verdict"], "pass") << chip.dump(2);
      passed += chip["verdict"] == "pass";
    }
  }
  EXPECT_EQ(passed, 15);
}

}  // namespace kiln::e2e
