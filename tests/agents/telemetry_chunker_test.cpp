// The agent's chunk encoding (agents/telemetry_chunker.hpp): what it sends
// decodes to the samples it was given, at the catalog's precision, one
// chunk per chip-step of a batch.

#include "agents/telemetry_chunker.hpp"

#include <gtest/gtest.h>

#include "schema/telemetry_chunk.hpp"

namespace kiln::agent {
namespace {

kiln::v1::Sample sample(const std::string& serial, std::uint32_t step, double t_s, double temperature) {
  kiln::v1::Sample s;
  s.set_serial(serial);
  s.set_run_id(7);
  s.set_step_index(step);
  s.set_t_s(t_s);
  s.set_wall_unix_ms(1'700'000'000'000 + static_cast<std::int64_t>(t_s * 1000));
  auto* v = s.add_values();
  v->set_name("temperature_c");
  v->set_value(temperature);
  v = s.add_values();
  v->set_name("a_toy_metric");
  v->set_value(temperature / 3);
  return s;
}

TEST(TelemetryChunker, ABatchsSamplesBecomeOneChunkPerChipStepThatDecodesToThem) {
  kiln::v1::AgentBatch batch;
  batch.set_rack("r01");
  batch.set_epoch(5);
  batch.set_seq(9);
  for (int i = 0; i < 10; ++i) {
    *batch.add_samples() = sample("A", 0, 0.1 * (i + 1), 70.123 + i);
    *batch.add_samples() = sample("B", 1, 0.1 * (i + 1), 60.5);
  }
  batch.add_samples()->set_serial("A");  // no values: stays a sample
  batch.add_results()->set_serial("A");
  const kiln::v1::AgentBatch sent = with_samples_chunked(batch);
  EXPECT_EQ(sent.epoch(), 5u);
  EXPECT_EQ(sent.seq(), 9u);
  EXPECT_EQ(sent.results_size(), 1);
  EXPECT_EQ(sent.samples_size(), 1);
  ASSERT_EQ(sent.chunks_size(), 2);
  const kiln::v1::TelemetryChunk& a = sent.chunks(0);
  EXPECT_EQ(a.serial(), "A");
  EXPECT_EQ(a.run_id(), 7u);
  EXPECT_EQ(a.step_index(), 0u);
  EXPECT_EQ(a.values(), 20u);
  ASSERT_EQ(a.metrics_size(), 2);
  auto series = store::chunk::decode(a.data());
  ASSERT_TRUE(series) << series.error().message;
  ASSERT_EQ(series->size(), 2u);
  for (const auto& s : *series) {
    ASSERT_EQ(s.points.size(), 10u);
    const std::string& name = a.metrics(static_cast<int>(s.metric_id));
    EXPECT_EQ(s.points[3].t_us, 400'000);
    EXPECT_EQ(s.points[3].wall_unix_ms, 1'700'000'000'400);
    if (name == "temperature_c") {
      EXPECT_EQ(s.points[3].value, 73.12);  // 0.01 °C
    } else {
      EXPECT_EQ(s.points[3].value, (70.123 + 3) / 3) << "a metric the catalog does not know is kept exact";
    }
  }
  EXPECT_EQ(sent.chunks(1).serial(), "B");
  EXPECT_EQ(sent.chunks(1).step_index(), 1u);
}

TEST(TelemetryChunker, IsFullAtItsChunkSizeAndStartsAfreshWhenTaken) {
  TelemetryChunker chunker("A", 1, 0);
  const std::uint32_t slot = chunker.metric("power_w");
  EXPECT_EQ(chunker.metric("power_w"), slot);
  for (std::size_t i = 0; i < TelemetryChunker::kChunkValues; ++i) {
    EXPECT_FALSE(chunker.full());
    chunker.add(slot, 0.1 * static_cast<double>(i + 1), 0, 300.04);
  }
  EXPECT_TRUE(chunker.full());
  const kiln::v1::TelemetryChunk chunk = chunker.take();
  EXPECT_EQ(chunk.values(), TelemetryChunker::kChunkValues);
  EXPECT_EQ(chunker.values(), 0u);
  auto series = store::chunk::decode(chunk.data());
  ASSERT_TRUE(series);
  EXPECT_EQ(series->at(0).points.back().value, 300.0);  // 0.1 W
  EXPECT_EQ(chunker.take().values(), 0u) << "nothing added: an empty chunk, not to be sent";
}

}  // namespace
}  // namespace kiln::agent
