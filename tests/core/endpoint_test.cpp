#include "core/endpoint.hpp"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

namespace kiln {
namespace {

TEST(Endpoint, ParsesDaemonAddresses) {
  auto v4 = parse_endpoint("127.0.0.1:7450");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->host, "127.0.0.1");
  EXPECT_EQ(v4->port, 7450);
  auto name = parse_endpoint("kilnd.lab:1");
  ASSERT_TRUE(name.ok());
  EXPECT_EQ(name->host, "kilnd.lab");
  auto v6 = parse_endpoint("[::1]:9000");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 9000);
  for (const char* bad : {"", "host", "host:", ":7450", "host:0", "host:65536", "host:12x", "::1:7450", "[::1:7450"}) {
    EXPECT_FALSE(parse_endpoint(bad).ok()) << bad;
  }
}

TEST(Endpoint, TokenFileIsItsFirstLineTrimmed) {
  const auto dir = std::filesystem::temp_directory_path();
  const auto good = (dir / "kiln_core_token_good").string();
  const auto blank = (dir / "kiln_core_token_blank").string();
  std::ofstream(good) << "  s3cret \t\nsecond line\n";
  std::ofstream(blank) << "   \nsecret on line two\n";
  auto token = read_token_file(good);
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(*token, "s3cret");
  auto empty = read_token_file(blank);
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("first line is empty"), std::string::npos);
  EXPECT_FALSE(read_token_file((dir / "kiln_core_token_missing").string()).ok());
  std::filesystem::remove(good);
  std::filesystem::remove(blank);
}

TEST(Endpoint, PortZeroOnlyForListeners) {
  EXPECT_FALSE(parse_endpoint("127.0.0.1:0"));
  auto any = parse_endpoint("127.0.0.1:0", /*allow_any_port=*/true);
  ASSERT_TRUE(any);
  EXPECT_EQ(any->port, 0);
}

}  // namespace
}  // namespace kiln
