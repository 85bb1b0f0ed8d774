// The chunk codec: what goes in comes out at the stored precision, bit for
// bit, and a damaged blob is an error, never a crash.

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <random>

#include <fmt/format.h>

#include "schema/telemetry_chunk.hpp"

namespace kiln::store::chunk {
namespace {

std::vector<Series> shapes() {
  std::mt19937_64 random(7);
  std::normal_distribution<double> noise(0, 3);
  Series temperature{1, 100, {}}, power{2, 10, {}}, counter{3, 1, {}}, exact{4, 0, {}};
  double t = 0, temp = 35;
  for (int i = 0; i < 1000; ++i) {
    t += 0.1;  // accumulated like an agent's elapsed time: 0.30000000000000004
    const std::int64_t t_us = std::llround(t * 1e6);
    const std::int64_t wall = 1'700'000'000'000 + i * 2 + (i % 3);
    temp += 0.05 * (80 - temp) * 0.1;
    temperature.points.push_back({t_us, wall, quantised(temp, 100)});
    power.points.push_back({t_us, wall, quantised(400 + noise(random), 10)});
    counter.points.push_back({t_us, wall, static_cast<double>(i / 100)});
    exact.points.push_back({t_us, wall, i == 500 ? std::numeric_limits<double>::quiet_NaN() : 1.0 / (i + 1)});
  }
  return {temperature, power, counter, exact};
}

void expect_same(const std::vector<Series>& a, const std::vector<Series>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].metric_id, b[i].metric_id);
    ASSERT_EQ(a[i].points.size(), b[i].points.size());
    for (std::size_t j = 0; j < a[i].points.size(); ++j) {
      EXPECT_EQ(a[i].points[j].t_us, b[i].points[j].t_us);
      EXPECT_EQ(a[i].points[j].wall_unix_ms, b[i].points[j].wall_unix_ms);
      const double x = a[i].points[j].value, y = b[i].points[j].value;
      EXPECT_TRUE(std::isnan(x) ? std::isnan(y) : x == y) << "series " << i << " point " << j << ": " << x << " " << y;
    }
  }
}

TEST(TelemetryChunk, RoundTripsQuantisedAndExactSeriesBitForBit) {
  const std::vector<Series> in = shapes();
  const auto out = decode(encode(in));
  ASSERT_TRUE(out) << out.error().message;
  expect_same(in, *out);
}

// The layout is a contract: agents encode chunks that kilnd stores as they
// came, and old databases hold them. These bytes were worked out by hand
// from the layout in telemetry_chunk.hpp (varints, zigzag, delta-of-delta
// times, quantised deltas, XORed doubles); a faster encoder must still
// write exactly them.
TEST(TelemetryChunk, TheRawLayoutIsTheDocumentedOne) {
  const Series quantised_series{0, 100, {{100000, 1000, 40.12}, {200000, 1002, 40.13}, {300001, 1003, 40.10}}};
  const Series exact_series{1, 0, {{100000, 1000, 0.5}, {200000, 1002, std::numeric_limits<double>::quiet_NaN()}}};
  const std::string raw = encode_raw({quantised_series, exact_series});
  std::string hex;
  for (const char c : raw) hex += fmt::format("{:02x}", static_cast<unsigned char>(c));
  EXPECT_EQ(hex,
            "02"                    // two series
            "00016403"              // id 0, quantised, scale 100, 3 points
            "c09a0c0002"            // t_us 100000, +100000, +100001
            "d00fcb0f01"            // wall 1000, 1002, 1003
            "d83e0205"              // q 4012, 4013, 4010
            "010002"                // id 1, exact, 2 points
            "c09a0c00"              // t_us
            "d00fcb0f"              // wall
            "80808080808080f03f"    // 0.5
            "808080808080808c40");  // NaN's bits XOR 0.5's
  const auto back = decode(encode({quantised_series, exact_series}));
  ASSERT_TRUE(back) << back.error().message;
  expect_same({quantised_series, exact_series}, *back);
}

void expect_same_summary(const SeriesSummary& a, const SeriesSummary& b) {
  EXPECT_EQ(a.metric_id, b.metric_id);
  EXPECT_EQ(a.scale, b.scale);
  EXPECT_EQ(a.points, b.points);
  EXPECT_EQ(a.min_t_us, b.min_t_us);
  EXPECT_EQ(a.max_t_us, b.max_t_us);
  EXPECT_EQ(a.stats.count, b.stats.count);
  EXPECT_EQ(a.stats.min, b.stats.min);
  EXPECT_EQ(a.stats.max, b.stats.max);
  EXPECT_EQ(a.stats.sum, b.stats.sum);
  EXPECT_TRUE(std::isnan(a.stats.last) ? std::isnan(b.stats.last) : a.stats.last == b.stats.last);
  EXPECT_EQ(a.stats.first_t_us, b.stats.first_t_us);
  EXPECT_EQ(a.stats.last_t_us, b.stats.last_t_us);
  EXPECT_EQ(a.stats.last_wall_unix_ms, b.stats.last_wall_unix_ms);
}

// kilnd keeps an agent's chunk as it came and only summarises it: the
// roll-ups must be what decoding it would have given.
TEST(TelemetryChunk, ASummaryIsWhatTheDecodedSeriesGive) {
  std::vector<Series> in = shapes();
  in.push_back(Series{5, 10, {}});                                                 // no points
  in.push_back(Series{6, 0, {{5, 5, std::numeric_limits<double>::quiet_NaN()}}});  // only NaN
  const std::string v1 = encode(in);
  const auto v2 = with_metric_map(v1, {10, 11, 12, 13, 14, 15, 16});
  ASSERT_TRUE(v2) << v2.error().message;
  for (const std::string& bytes : {v1, *v2}) {
    const auto decoded = decode(bytes);
    const auto summaries = summarise(bytes);
    ASSERT_TRUE(decoded) << decoded.error().message;
    ASSERT_TRUE(summaries) << summaries.error().message;
    ASSERT_EQ(summaries->size(), decoded->size());
    for (std::size_t i = 0; i < decoded->size(); ++i) expect_same_summary((*summaries)[i], summary_of((*decoded)[i]));
  }
  EXPECT_EQ((*summarise(*v2))[2].metric_id, 13u);  // id 3 through the map
  EXPECT_EQ((*summarise(v1))[4].stats.min, 0);     // no values: 0, not infinity
}

TEST(TelemetryChunk, ASummaryRefusesWhatDecodingRefuses) {
  const std::string bytes = encode(shapes());
  for (std::size_t n = 0; n < bytes.size(); n += 5) {
    EXPECT_FALSE(summarise(std::string_view(bytes).substr(0, n))) << n;
  }
  std::mt19937 random(5);
  for (int i = 0; i < 300; ++i) {
    std::string damaged = bytes;
    damaged[random() % damaged.size()] ^= static_cast<char>(1 + random() % 255);
    EXPECT_EQ(decode(damaged).ok(), summarise(damaged).ok()) << i;
  }
}

TEST(TelemetryChunk, AQuantisedValuePrintsAsItsDecimal) {
  EXPECT_EQ(quantised(71.23456, 100), 71.23);
  EXPECT_EQ(quantised(399.96, 10), 400.0);
  EXPECT_EQ(scale_for_precision(0.01), 100u);
  EXPECT_EQ(scale_for_precision(0.1), 10u);
  EXPECT_EQ(scale_for_precision(1), 1u);
  EXPECT_EQ(scale_for_precision(0.0001), 10000u);
  EXPECT_EQ(scale_for_precision(0.3), 0u);  // not 1/n: kept exact
  EXPECT_EQ(scale_for_precision(5), 0u);
}

TEST(TelemetryChunk, ValuesOffTheGridFallBackToExact) {
  // A huge value cannot be a quantum of 0.01 in 53 bits: it is kept as is.
  Series s{9, 100, {{0, 0, 1e300}, {1, 1, -std::numeric_limits<double>::infinity()}}};
  const auto out = decode(encode({s}));
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ((*out)[0].points[0].value, 1e300);
  EXPECT_EQ((*out)[0].points[1].value, -std::numeric_limits<double>::infinity());
}

// The agents build their chunks value by value (SeriesColumns); what they
// send must be what encode() makes of the same points, byte for byte: on
// the grid, off it from the start (scale 0), and leaving it half way (a
// NaN, a value too large for the grid), then cleared and used again.
TEST(TelemetryChunk, ColumnsBuiltValueByValueAreWhatEncodeMakesOfThePoints) {
  std::mt19937_64 random(11);
  std::normal_distribution<double> noise(0, 30);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::uint32_t scales[] = {100, 10, 0, 100, 1000};
  std::vector<SeriesColumns> columns;
  for (const std::uint32_t scale : scales) columns.emplace_back(scale);
  for (int round = 0; round < 2; ++round) {
    std::vector<Series> points;
    for (std::uint32_t id = 0; id < 5; ++id) points.push_back({id, scales[id], {}});
    for (int i = 0; i < 700; ++i) {
      const std::int64_t t_us = 100'000 * i + (i % 7 == 0 ? 3 : 0);
      const std::int64_t wall = 1'700'000'000'000 + 2 * i + (i % 3);
      const double values[] = {35 + 0.001 * i + noise(random) / 1000,  // smooth
                               400 + noise(random),                    // noisy
                               1.0 / (i + 1),                          // exact
                               i == 350 + round ? nan : 80 + noise(random),
                               i == 600 ? 1e300 : (i == 650 ? -std::numeric_limits<double>::infinity() : i * 0.5)};
      for (std::size_t s = 0; s < points.size(); ++s) {
        points[s].points.push_back({t_us, wall, quantised(values[s], points[s].scale)});
        columns[s].add(t_us, wall, values[s]);
      }
    }
    std::vector<const SeriesColumns*> built;
    for (const SeriesColumns& c : columns) built.push_back(&c);
    EXPECT_EQ(encode(built, 3, true), encode(points, 3, true)) << "round " << round;
    const auto decoded = decode(encode(built));
    ASSERT_TRUE(decoded) << decoded.error().message;
    expect_same(*decoded, points);
    for (SeriesColumns& c : columns) c.clear();
    EXPECT_EQ(columns[0].size(), 0u);
  }
}

// An agent adds a tick's values at one shared tick (TickTimes), so a series
// sampled at every tick writes no times of its own. The bytes must still be
// encode()'s of the same points for every shape a series can take: from the
// first tick, starting late, with one or two points, missing a tick, two
// values in one tick; then cleared and used again.
TEST(TelemetryChunk, SeriesSharingTheirTicksAreWhatEncodeMakesOfThePoints) {
  std::mt19937_64 random(5);
  std::normal_distribution<double> noise(0, 30);
  // Which ticks of 400 a series has a value at (and how many there).
  const std::vector<std::function<int(int)>> shapes = {
      [](int) { return 1; },                           // every tick
      [](int i) { return i >= 37 ? 1 : 0; },           // from a late tick on
      [](int i) { return i == 5 ? 1 : 0; },            // one point
      [](int i) { return i == 8 || i == 9 ? 1 : 0; },  // two
      [](int i) { return i >= 3 && i <= 5 ? 1 : 0; },  // three
      [](int i) { return i == 200 ? 0 : 1; },          // misses one tick
      [](int i) { return i % 2; },                     // every other tick
      [](int i) { return i == 100 ? 2 : 1; },          // two values in one tick
      [](int i) { return i == 399 ? 1 : 0; },          // the last tick only
  };
  TickTimes ticks;
  std::vector<SeriesColumns> columns;
  for (std::size_t s = 0; s < shapes.size(); ++s) columns.emplace_back(s == 6 ? 0 : 100);
  for (int round = 0; round < 2; ++round) {
    std::vector<Series> points;
    for (std::size_t s = 0; s < shapes.size(); ++s) {
      points.push_back({static_cast<std::uint32_t>(s), columns[s].scale(), {}});
    }
    for (int i = 0; i < 400; ++i) {
      // Ticks 100 ms apart give or take a few µs, the wall clock with jitter.
      const std::int64_t t_us = 100'000 * (i + round) + (i % 7 == 0 ? 3 : 0);
      const std::int64_t wall = 1'700'000'000'000 + 100 * i + (i % 3);
      const std::uint32_t tick = ticks.at(t_us, wall);
      EXPECT_EQ(ticks.at(t_us, wall), tick) << "the same times are the same tick";
      for (std::size_t s = 0; s < shapes.size(); ++s) {
        for (int n = 0; n < shapes[s](i); ++n) {
          const double value = 40 + noise(random);
          columns[s].add(ticks, tick, value);
          points[s].points.push_back({t_us, wall, quantised(value, points[s].scale)});
        }
      }
    }
    std::vector<const SeriesColumns*> built;
    for (const SeriesColumns& c : columns) built.push_back(&c);
    EXPECT_EQ(encode(built, &ticks, 3, true), encode(points, 3, true)) << "round " << round;
    const auto decoded = decode(encode(built, &ticks));
    ASSERT_TRUE(decoded) << decoded.error().message;
    expect_same(*decoded, points);
    for (SeriesColumns& c : columns) c.clear();
    ticks.clear();
  }
}

TEST(TelemetryChunk, ColumnsRoundHalvesAndEdgesOfTheGridAsEncodeDoes) {
  // SeriesColumns rounds a usual value itself (not with std::llround):
  // halves, the doubles next to them and values near the grid's edge
  // (2^48 quanta) must give the bytes encode() gives.
  const double below_half = std::nextafter(0.5, 0.0);
  const double edge = 281474976710656.0;  // kMaxQuantum
  const std::vector<double> values = {
      0.5,         -0.5,        1.5,          -2.5,           below_half,     -below_half,     2.5000000001,
      -0.0,        0.0,         3.4999999999, edge / 2 - 0.5, edge / 2 + 0.5, -edge / 2 - 0.5, edge - 1.5,
      edge - 0.75, -edge + 1.5, 1e-320,       -1e-320};
  for (const std::uint32_t scale : {1u, 2u, 100u, 1000000000u}) {
    SeriesColumns columns(scale);
    Series points{0, scale, {}};
    std::int64_t t_us = 0;
    for (const double v : values) {
      const double value = v / scale;  // the same quanta at every scale
      t_us += 100'000;
      columns.add(t_us, 1'700'000'000'000 + t_us / 1000, value);
      points.points.push_back({t_us, 1'700'000'000'000 + t_us / 1000, quantised(value, scale)});
    }
    EXPECT_EQ(encode({&columns}, 3, true), encode({points}, 3, true)) << "scale " << scale;
  }
}

TEST(TelemetryChunk, RegularShapesCompressBelowHalfAByteAValue) {
  const std::vector<Series> in = shapes();
  std::size_t values = 0;
  for (const Series& s : in) values += s.points.size();
  // The exact series (a fraction per sample) is incompressible: leave it
  // out. Smooth temperature, noisy power and a counter, 3000 values.
  const std::vector<Series> regular(in.begin(), in.begin() + 3);
  values -= in[3].points.size();
  EXPECT_LT(static_cast<double>(encode(regular).size()) / static_cast<double>(values), 0.5);
  EXPECT_LT(encode(regular).size(), encode_raw(regular).size());
}

TEST(TelemetryChunk, EveryTruncationIsAnErrorNotACrash) {
  const std::string bytes = encode(shapes());
  for (std::size_t n = 0; n < bytes.size(); n += 7) {
    EXPECT_FALSE(decode(std::string_view(bytes).substr(0, n))) << n;
  }
}

TEST(TelemetryChunk, LiesAboutLengthsAreRefusedBeforeAllocating) {
  EXPECT_FALSE(decode("nope"));
  EXPECT_FALSE(decode(std::string("KTC\x01", 4)));
  // A raw size far over the cap.
  EXPECT_FALSE(decode(std::string("KTC\x01\xff\xff\xff\xff\x7f", 9)));
  // A frame claiming another size than the header.
  std::string bytes = encode(shapes());
  bytes[4] = static_cast<char>(bytes[4] ^ 1);
  EXPECT_FALSE(decode(bytes));
}

TEST(TelemetryChunk, FlippedBytesNeverCrash) {
  const std::string bytes = encode(shapes());
  std::mt19937 random(3);
  for (int i = 0; i < 500; ++i) {
    std::string damaged = bytes;
    damaged[random() % damaged.size()] ^= static_cast<char>(1 + random() % 255);
    (void)decode(damaged);  // any answer but a crash
  }
}

// The fuzz target's seed must be a real chunk, or the fuzzer starts from
// inputs the decoder refuses at the first byte.
TEST(TelemetryChunk, TheFuzzSeedIsAChunkOfTwoSeries) {
  std::ifstream file(KILN_SOURCE_DIR "/fuzz/corpus/telemetry_chunk/two_series.bin", std::ios::binary);
  const std::string bytes{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
  const auto series = decode(bytes);
  ASSERT_TRUE(series) << series.error().message;
  ASSERT_EQ(series->size(), 2u);
  EXPECT_EQ((*series)[0].points.at(0).value, 40.12);
  EXPECT_TRUE(std::isnan((*series)[1].points.at(1).value));
}

}  // namespace
}  // namespace kiln::store::chunk
