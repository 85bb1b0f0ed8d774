// Range-checked field reads (yaml/fields.hpp): a value outside its bounds
// is an error at the value, naming the key path and the bounds; an open
// lower bound reads "(lo, hi]".
#include "yaml/fields.hpp"

#include <gtest/gtest.h>

namespace kiln::yaml {
namespace {

TEST(YamlFields, ReadsValuesInsideTheirBoundsAndReportsTheRestAtTheValue) {
  Diagnostics diagnostics("s.yaml");
  const auto root = parse("cores: 8\nscale: 0\nratio: 0.5\nname: x\n", diagnostics);
  ASSERT_TRUE(root) << diagnostics.to_string();
  MapReader reader(*root, diagnostics, "sku");
  EXPECT_EQ(read_integer(reader, diagnostics, "sku", "cores", {1, 4096}, true), 8);
  EXPECT_FALSE(read_number(reader, diagnostics, "sku", "scale", {0, 600, true}, true));
  EXPECT_EQ(read_number(reader, diagnostics, "sku", "ratio", {0, 1}, true), 0.5);
  EXPECT_FALSE(read_integer(reader, diagnostics, "sku", "name", {0, 1}, false));
  EXPECT_FALSE(read_number(reader, diagnostics, "sku", "absent", {0, 1}, false));
  ASSERT_EQ(diagnostics.size(), 2u) << diagnostics.to_string();
  EXPECT_EQ(diagnostics.list()[0].to_string(), "s.yaml:2:8: sku.scale: 0 is out of range (0, 600]");
  EXPECT_EQ(diagnostics.list()[1].to_string(), "s.yaml:4:7: sku.name: expected an integer, got 'x'");

  EXPECT_FALSE(read_integer(reader, diagnostics, "sku", "missing", {0, 1}, true));
  EXPECT_EQ(diagnostics.list().back().to_string(), "s.yaml:1:1: sku: missing required key 'missing'");
}

TEST(YamlFields, FormatsClosedAndOpenBounds) {
  EXPECT_EQ(format_bounds({0, 7}), "[0, 7]");
  EXPECT_EQ(format_bounds({0, 600, true}), "(0, 600]");
}

}  // namespace
}  // namespace kiln::yaml
