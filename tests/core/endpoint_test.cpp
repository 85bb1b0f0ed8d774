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

// A token file the tests write: its text, mode 0600 unless told otherwise.
std::string token_file(const std::string& name, const std::string& text,
                       std::filesystem::perms mode = std::filesystem::perms::owner_read |
                                                     std::filesystem::perms::owner_write) {
  const auto path = (std::filesystem::temp_directory_path() / name).string();
  std::ofstream(path) << text;
  std::filesystem::permissions(path, mode);
  return path;
}

TEST(Endpoint, TokenFileIsItsFirstLineTrimmed) {
  const auto good = token_file("kiln_core_token_good", "  0123456789abcdef0123456789abcdef \t\nsecond line\n");
  const auto blank = token_file("kiln_core_token_blank", "   \nsecret on line two\n");
  auto token = read_token_file(good);
  ASSERT_TRUE(token.ok()) << token.error().message;
  EXPECT_EQ(*token, "0123456789abcdef0123456789abcdef");
  auto empty = read_token_file(blank);
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().message.find("first line is empty"), std::string::npos);
  EXPECT_FALSE(read_token_file((std::filesystem::temp_directory_path() / "kiln_core_token_missing").string()).ok());
  std::filesystem::remove(good);
  std::filesystem::remove(blank);
}

TEST(Endpoint, ATokenFileOthersMayReadIsRefused) {
  using std::filesystem::perms;
  const auto open = token_file("kiln_core_token_open", "0123456789abcdef0123456789abcdef\n",
                               perms::owner_read | perms::owner_write | perms::group_read | perms::others_read);
  auto token = read_token_file(open);
  ASSERT_FALSE(token.ok());
  EXPECT_NE(token.error().message.find("mode 0644): chmod 600 it"), std::string::npos) << token.error().message;
  std::filesystem::permissions(open, perms::owner_read);
  EXPECT_TRUE(read_token_file(open).ok());
  std::filesystem::remove(open);
}

TEST(Endpoint, ASecretShorterThan128BitsAsHexIsRefused) {
  const auto short_secret = token_file("kiln_core_token_short", "x\n");
  auto token = read_token_file(short_secret);
  ASSERT_FALSE(token.ok());
  EXPECT_NE(token.error().message.find("the secret is 1 characters, at least 32"), std::string::npos)
      << token.error().message;
  std::filesystem::remove(short_secret);
}

TEST(Endpoint, PortZeroOnlyForListeners) {
  EXPECT_FALSE(parse_endpoint("127.0.0.1:0"));
  auto any = parse_endpoint("127.0.0.1:0", /*allow_any_port=*/true);
  ASSERT_TRUE(any);
  EXPECT_EQ(any->port, 0);
}

}  // namespace
}  // namespace kiln
