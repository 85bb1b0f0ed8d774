#pragma once
// The lab the lifecycle tests run (lifecycle_flow_test, nightly_schedule_test):
// one rack of six trn2-sim chips, one hard-faulty and one marginal, a short
// plan that tells them apart, and how the tests read a chip's lifecycle and
// the digest from the daemon.
#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/integration/lab_fixture.hpp"

namespace kiln::testing::life {

// L-01 corrupts every GEMM (a hard fault); L-02 computes at 65 % of its
// speed: between the plan's fail (50 %) and marginal (80 %) floors.
inline const char* const kLab = R"(
lab: life
seed: 3
time_scale: 100
racks:
  - id: r01
    backend: sim
    topology: ring
    chips:
      - {slot: 0, serial: L-00, sku: trn2-sim}
      - {slot: 1, serial: L-01, sku: trn2-sim, faults: [{kind: sdc, core: 1, pe: [3, 9], bit: 20, rate: 1.0}]}
      - {slot: 2, serial: L-02, sku: trn2-sim, faults: [{kind: slow, factor: 0.65}]}
      - {slot: 3, serial: L-03, sku: trn2-sim}
      - {slot: 4, serial: L-04, sku: trn2-sim}
      - {slot: 5, serial: L-05, sku: trn2-sim}
)";

inline const char* const kPlan = R"(
plan: life
seed: 7
sample_hz: 5
steps:
  - name: gemm
    pattern: gemm
    duration: 6s
    params: {dtype: bf16, verify: abft}
    limits:
      sdc_errors: {max: 0}
      tflops: {min: 0.5, of: peak, marginal_min: 0.8}
)";

inline nlohmann::json chip(LabFixture& lab, const std::string& serial) {
  kiln::v1::Query q;
  q.set_kind(kiln::v1::Query::CHIP);
  q.set_serial(serial);
  auto reply = lab.client()->ask(q);
  if (!reply) throw std::runtime_error(reply.error().message);
  return nlohmann::json::parse(reply->body());
}

// Polls, as LabFixture::wait_for_run does, until `done` holds of the chip's JSON.
inline nlohmann::json wait_for_chip(LabFixture& lab, const std::string& serial,
                                    const std::function<bool(const nlohmann::json&)>& done,
                                    std::chrono::seconds timeout = std::chrono::seconds(120)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  nlohmann::json last;
  while (std::chrono::steady_clock::now() < deadline) {
    last = chip(lab, serial);
    if (done(last)) return last;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ADD_FAILURE() << serial << " did not reach the expected lifecycle in time: " << last["lifecycle"].dump(2);
  return last;
}

inline std::string state_of(const nlohmann::json& c) { return c["lifecycle"]["state"].get<std::string>(); }

// The digest of everything until `until_unix_ms` (0: now).
inline nlohmann::json digest(LabFixture& lab, std::int64_t until_unix_ms = 0) {
  kiln::v1::Query q;
  q.set_kind(kiln::v1::Query::DIGEST);
  q.set_since_unix_ms(0);
  q.set_until_unix_ms(until_unix_ms);
  auto reply = lab.client()->ask(q);
  if (!reply) throw std::runtime_error(reply.error().message);
  return nlohmann::json::parse(reply->body());
}

}  // namespace kiln::testing::life
