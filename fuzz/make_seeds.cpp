// Writes the checked-in binary seeds of the frame decoder and envelope
// dispatch targets (fuzz/corpus/frame_decoder, fuzz/corpus/envelope_dispatch):
// well-formed frames of what agents and clients really send, laid out as
// each target reads its input. Run it again when the protocol changes:
//   kiln_fuzz_make_seeds <source>/fuzz/corpus
// The YAML targets are seeded with the shipped files themselves.

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "schema/frame.hpp"
#include "schema/kiln.pb.h"

namespace {

using kiln::v1::Envelope;

std::string hello(kiln::v1::Role role, const std::string& identity, const std::string& credential) {
  Envelope e;
  e.mutable_hello()->set_protocol_version(kiln::wire::kProtocolVersion);
  e.mutable_hello()->set_role(role);
  e.mutable_hello()->set_identity(identity);
  e.mutable_hello()->set_credential(credential);
  return kiln::wire::encode_envelope(e);
}

std::string heartbeat() {
  Envelope e;
  e.mutable_heartbeat()->set_sent_unix_ms(1700000000000);
  return kiln::wire::encode_envelope(e);
}

std::string register_rack() {
  Envelope e;
  auto* reg = e.mutable_register_rack();
  reg->set_rack("r01");
  reg->set_lab("demo");
  reg->set_backend("sim");
  reg->set_topology("ring");
  reg->set_epoch(1700000000000);
  reg->set_time_scale(60);
  auto* chip = reg->add_chips();
  chip->set_serial("R01-00");
  chip->set_sku("trn2-sim");
  (*chip->mutable_peaks())["tflops.bf16"] = 667;
  return kiln::wire::encode_envelope(e);
}

std::string agent_batch() {
  Envelope e;
  auto* batch = e.mutable_agent_batch();
  batch->set_rack("r01");
  batch->set_epoch(1700000000000);
  batch->set_seq(1);
  auto* sample = batch->add_samples();
  sample->set_serial("R01-00");
  sample->set_run_id(1);
  auto* result = batch->add_results();
  result->set_serial("R01-00");
  result->set_run_id(1);
  result->set_completed(true);
  return kiln::wire::encode_envelope(e);
}

std::string phase_dispatch() {
  Envelope e;
  auto* dispatch = e.mutable_phase_dispatch();
  dispatch->set_run_id(1);
  dispatch->set_sample_hz(10);
  dispatch->add_serials("R01-00");
  auto* step = dispatch->add_steps();
  step->set_name("gemm");
  step->set_pattern("gemm");
  step->set_duration_s(30);
  (*step->mutable_params())["dtype"].set_choice("bf16");
  (*step->mutable_params())["m"].set_integer(1024);
  (*step->mutable_params())["buffer"].set_size_bytes(64u << 20);
  (*step->mutable_params())["hold"].set_duration_s(1.5);
  (*step->mutable_params())["clocks"].mutable_number_list()->add_values(700);
  return kiln::wire::encode_envelope(e);
}

std::string submit_run() {
  Envelope e;
  e.set_request_id(7);
  e.mutable_submit_run()->set_plan_path("tiny.yaml");
  e.mutable_submit_run()->set_plan_text("plan: tiny\nsteps:\n  - name: warm\n    pattern: idle\n    duration: 5s\n");
  e.mutable_submit_run()->set_validate_only(true);
  return kiln::wire::encode_envelope(e);
}

std::string query() {
  Envelope e;
  e.set_request_id(8);
  e.mutable_query()->set_kind(kiln::v1::Query::RUNS);
  return kiln::wire::encode_envelope(e);
}

void write(const std::filesystem::path& dir, const std::string& name, const std::string& bytes) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << bytes;
}

// The chunker's bytes: a count, then the sizes (each size byte b is b + 1 bytes).
std::string chunks(const std::vector<std::uint8_t>& sizes) {
  std::string out(1, static_cast<char>(sizes.size()));
  for (const auto s : sizes) out.push_back(static_cast<char>(s));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    fmt::print(stderr, "usage: kiln_fuzz_make_seeds CORPUS_DIR\n");
    return 2;
  }
  const std::filesystem::path root(argv[1]);
  const std::string credential = "fuzz-credential";  // the one envelope_dispatch accepts
  const std::string agent =
      hello(kiln::v1::ROLE_AGENT, "r01", credential) + heartbeat() + register_rack() + agent_batch() + phase_dispatch();
  const std::string client = hello(kiln::v1::ROLE_CLIENT, "kiln", credential) + submit_run() + query() + heartbeat();

  // frame_decoder: [cap byte][raise byte][chunker][stream]. Cap 4096
  // (selector 5) raised to kMaxFrameBytes (selector 6) after the first frame.
  const std::string hello_then_all = std::string{5, static_cast<char>((6 << 3) | 1)};
  const auto frames = root / "frame_decoder";
  write(frames, "agent-one-chunk.bin", hello_then_all + chunks({}) + agent);
  write(frames, "client-small-chunks.bin", hello_then_all + chunks({0, 2, 6, 30}) + client);
  write(frames, "oversized-header.bin",
        std::string{3, 7} + chunks({1}) + kiln::wire::encode_frame("hi") + std::string("\x00\x00\x01\x00", 4) + "x");
  write(frames, "empty-frames.bin",
        std::string{0, 7} + chunks({0}) + kiln::wire::encode_frame("") + kiln::wire::encode_frame(""));

  // envelope_dispatch: [chunker][stream].
  const auto dispatch = root / "envelope_dispatch";
  write(dispatch, "agent.bin", chunks({}) + agent);
  write(dispatch, "agent-split.bin", chunks({0, 3, 100}) + agent);
  write(dispatch, "client.bin", chunks({20}) + client);
  write(dispatch, "wrong-credential.bin", chunks({}) + hello(kiln::v1::ROLE_AGENT, "r01", "guess") + heartbeat());
  write(dispatch, "no-hello-first.bin", chunks({}) + heartbeat() + hello(kiln::v1::ROLE_CLIENT, "kiln", credential));
  write(dispatch, "second-hello.bin",
        chunks({}) + hello(kiln::v1::ROLE_CLIENT, "kiln", credential) + query() +
            hello(kiln::v1::ROLE_CLIENT, "kiln", credential) + query());
  return 0;
}
