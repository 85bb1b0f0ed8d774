// The YAML-level rules of DESIGN §4 (yaml/strict_yaml.hpp), on the texts a
// user writes: yaml-cpp's leniencies (duplicate keys, anchors and aliases,
// tags, several documents, unbounded size and depth) are all refused with
// the position of the offending text. The plan, lab and SKU loaders all
// read through this; tests/testplans and tests/device check that they do.

#include "yaml/strict_yaml.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace kiln::yaml {
namespace {

struct Parsed {
  std::optional<Node> root;
  std::vector<Diagnostic> diagnostics;
};

Parsed load(std::string_view text) {
  Diagnostics diagnostics("p.yaml");
  Parsed out;
  out.root = parse(text, diagnostics);
  out.diagnostics = diagnostics.list();
  return out;
}

std::string all_messages(const Parsed& parsed) {
  std::string out;
  for (const auto& d : parsed.diagnostics) out += d.to_string() + "\n";
  return out;
}

// Passes when one diagnostic reads exactly `expected` ("p.yaml:3:5: message").
::testing::AssertionResult has_error(const Parsed& parsed, std::string_view expected) {
  for (const auto& d : parsed.diagnostics) {
    if (d.to_string() == expected) return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "no diagnostic\n  " << expected << "\namong\n" << all_messages(parsed);
}

// Passes when the only diagnostic reads exactly `expected`, and no tree came back.
::testing::AssertionResult only_error(const Parsed& parsed, std::string_view expected) {
  if (parsed.root) return ::testing::AssertionFailure() << "a tree was returned despite errors";
  if (parsed.diagnostics.size() == 1 && parsed.diagnostics[0].to_string() == expected) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "expected only\n  " << expected << "\ngot\n" << all_messages(parsed);
}

// The same rules for a value read from the tree: one error, at `expected`.
::testing::AssertionResult only_error(const Diagnostics& diagnostics, std::string_view expected) {
  if (diagnostics.size() == 1 && diagnostics.list()[0].to_string() == expected) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "expected only\n  " << expected << "\ngot\n" << diagnostics.to_string();
}

TEST(StrictYaml, DuplicateKeyIsAnErrorNamingTheFirst) {
  const auto result = load(R"(plan: t
seed: 1
steps:
  - {name: a, pattern: idle, duration: 1s}
seed: 2
)");
  EXPECT_TRUE(only_error(result, "p.yaml:5:1: duplicate key 'seed' (first at line 2)"));
}

TEST(StrictYaml, DuplicateKeyInsideAFlowMappingIsAnError) {
  const auto result = load(R"(plan: t
steps:
  - {name: a, pattern: gemm, duration: 1s, params: {m: 1, m: 2}}
)");
  EXPECT_TRUE(only_error(result, "p.yaml:3:59: duplicate key 'm' (first at line 3)"));
}

TEST(StrictYaml, AnchorAndAliasAreRejectedWhereTheyAre) {
  const auto result = load(R"(plan: t
steps:
  - &base {name: a, pattern: idle, duration: 1s}
  - *base
)");
  ASSERT_FALSE(result.root);
  ASSERT_EQ(result.diagnostics.size(), 2u) << all_messages(result);
  EXPECT_EQ(result.diagnostics[0].to_string(), "p.yaml:3:5: anchors (&base) are not allowed");
  EXPECT_EQ(result.diagnostics[1].to_string(), "p.yaml:4:5: aliases (*base) are not allowed");
}

// yaml-cpp would share the aliased nodes and a naive walk would visit 9^9
// (387 million) of them; the strict reader refuses at the first alias.
TEST(StrictYaml, BillionLaughsAliasBombIsRejectedFast) {
  std::string bomb = "a: &a [x,x,x,x,x,x,x,x,x]\n";
  for (char level = 'b'; level <= 'i'; ++level) {
    const char prev = static_cast<char>(level - 1);
    bomb += fmt::format("{0}: &{0} [*{1},*{1},*{1},*{1},*{1},*{1},*{1},*{1},*{1}]\n", level, prev);
  }
  ASSERT_LT(bomb.size(), 320u);

  const auto start = std::chrono::steady_clock::now();
  const auto result = load(bomb);
  const auto elapsed = std::chrono::steady_clock::now() - start;

  EXPECT_FALSE(result.root);
  EXPECT_LT(elapsed, std::chrono::seconds(1));
  EXPECT_TRUE(has_error(result, "p.yaml:1:4: anchors (&a) are not allowed"));
  EXPECT_TRUE(has_error(result, "p.yaml:2:8: aliases (*a) are not allowed"));
  // One report per anchor and its first use, not one per alias (81).
  EXPECT_EQ(result.diagnostics.size(), 17u) << all_messages(result);
}

TEST(StrictYaml, ExplicitTagIsRejected) {
  const auto result = load(R"(plan: t
seed: !!str 7
steps:
  - {name: a, pattern: idle, duration: 1s}
)");
  EXPECT_TRUE(only_error(result, "p.yaml:2:7: explicit tags (tag:yaml.org,2002:str) are not allowed"));
}

TEST(StrictYaml, SecondDocumentIsRejectedAtItsStart) {
  const auto result = load(R"(plan: t
steps:
  - {name: a, pattern: idle, duration: 1s}
---
plan: u
)");
  EXPECT_TRUE(only_error(result, "p.yaml:4:1: only one YAML document per file is allowed"));
}

TEST(StrictYaml, DeepNestingIsRejectedAtTheLevelThatIsTooDeep) {
  const std::string deep = "plan: t\nsteps: " + std::string(100, '[') + std::string(100, ']') + "\n";
  // The top-level mapping is level 1, so the 32nd '[' (column 39) would be level 33.
  EXPECT_TRUE(only_error(load(deep), "p.yaml:2:39: nesting deeper than 32 levels"));
}

TEST(StrictYaml, TextOverOneMebibyteIsRejectedUnparsed) {
  const std::string big = "plan: t\ndescription: " + std::string(1 << 20, 'x') + "\n";
  EXPECT_TRUE(
      only_error(load(big), fmt::format("p.yaml: file is {} bytes, larger than the 1048576 byte limit", big.size())));
}

TEST(StrictYaml, SyntaxErrorHasAPosition) {
  const auto result = load("plan: t\nsteps: [a, b\nrepeat: 1\n");
  ASSERT_FALSE(result.root);
  ASSERT_EQ(result.diagnostics.size(), 1u) << all_messages(result);
  EXPECT_GT(result.diagnostics[0].mark.line, 1u);
  EXPECT_NE(result.diagnostics[0].message.find("end of sequence flow not found"), std::string::npos);
}

// Found by the lab and SKU fuzz targets: yaml-cpp placed this error past the
// end of the text (column 9 of a 7-byte file); it points at the last column.
TEST(StrictYaml, ASyntaxErrorAtTheEndPointsInsideTheText) {
  const auto result = load(std::string_view("l# Th\x07\x00", 7));
  ASSERT_FALSE(result.root);
  ASSERT_EQ(result.diagnostics.size(), 1u) << all_messages(result);
  EXPECT_EQ(result.diagnostics[0].mark.line, 1u);
  EXPECT_EQ(result.diagnostics[0].mark.column, 8u);
  EXPECT_NE(result.diagnostics[0].message.find("unknown escape character"), std::string::npos);
  // The same past a line break: on the last line, never below it.
  const auto later = load(std::string_view("a: 1\nl# Th\x07\x00", 12));
  ASSERT_EQ(later.diagnostics.size(), 1u) << all_messages(later);
  EXPECT_EQ(later.diagnostics[0].mark.line, 2u);
  EXPECT_EQ(later.diagnostics[0].mark.column, 8u);
}

TEST(StrictYaml, EmptyFileIsAnError) {
  EXPECT_TRUE(only_error(load(""), "p.yaml:1:1: the file is empty"));
  EXPECT_TRUE(only_error(load("# nothing but a comment\n"), "p.yaml:1:1: the file is empty"));
}

// Regression: yaml-cpp marks an empty value where the next line starts,
// which pointed users at the wrong key.
TEST(StrictYaml, EmptyValueIsReportedAtItsKey) {
  const auto result = load(R"(plan: t
description:
steps:
  - {name: a, pattern: idle, duration: 1s}
)");
  ASSERT_TRUE(result.root) << all_messages(result);
  Diagnostics diagnostics("p.yaml");
  MapReader top(*result.root, diagnostics, "");  // the top level of a file: keys named bare
  EXPECT_FALSE(top.string("description"));
  EXPECT_TRUE(only_error(diagnostics, "p.yaml:2:1: description: expected a string, got a null"));
}

TEST(StrictYaml, QuotedNumberIsAString) {
  const auto result = load(R"(plan: t
steps:
  - {name: a, pattern: gemm, duration: 1s, params: {m: "8192"}}
)");
  ASSERT_TRUE(result.root) << all_messages(result);
  const Node* m = result.root->find("steps")->items().at(0).find("params")->find("m");
  ASSERT_NE(m, nullptr);
  EXPECT_TRUE(m->quoted());
  Diagnostics diagnostics("p.yaml");
  EXPECT_FALSE(as_integer(*m, diagnostics, "steps[0].params.m"));
  EXPECT_TRUE(only_error(diagnostics,
                         "p.yaml:3:56: steps[0].params.m: expected an integer, got \"8192\" (quoted, so a string)"));
}

}  // namespace
}  // namespace kiln::yaml
