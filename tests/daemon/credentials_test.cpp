#include "daemon/credentials.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <random>

#include <gtest/gtest.h>

namespace kiln::daemon {
namespace {

const std::string kA(32, 'a');
const std::string kB(40, 'b');
const std::string kC(64, 'c');

TEST(Credentials, ReadsRackAndRoleCredentialsAndFindsThemBySecret) {
  auto book = CredentialBook::parse(
      "credentials:\n"
      "  - {name: rack-r01, rack: r01, secret: " +
          kA +
          "}\n"
          "  - {name: alice, role: operator, secret: '" +
          kB +
          "'}\n"
          "  - {name: ops, role: admin, secret: " +
          kC + "}\n",
      "creds.yaml");
  ASSERT_TRUE(book) << book.error().message;
  const Credential* rack = book->find(kA);
  ASSERT_NE(rack, nullptr);
  EXPECT_EQ(rack->name, "rack-r01");
  EXPECT_TRUE(rack->is_agent());
  EXPECT_EQ(rack->rack, "r01");
  const Credential* alice = book->find(kB);
  ASSERT_NE(alice, nullptr);
  EXPECT_FALSE(alice->is_agent());
  EXPECT_EQ(alice->role, ClientRole::run_operator);
  EXPECT_EQ(book->find(kC)->role, ClientRole::admin);
  EXPECT_EQ(book->find(kA.substr(1)), nullptr);
  EXPECT_EQ(book->find(""), nullptr);
  EXPECT_EQ(book->find(std::string(32, 'z')), nullptr);
}

TEST(Credentials, RolesIncludeTheOnesBelowThem) {
  EXPECT_TRUE(allows(ClientRole::admin, ClientRole::run_operator));
  EXPECT_TRUE(allows(ClientRole::run_operator, ClientRole::viewer));
  EXPECT_FALSE(allows(ClientRole::viewer, ClientRole::run_operator));
  EXPECT_FALSE(allows(ClientRole::run_operator, ClientRole::admin));
  EXPECT_EQ(to_string(ClientRole::run_operator), "operator");
  EXPECT_EQ(parse_client_role("operator"), ClientRole::run_operator);
  EXPECT_FALSE(parse_client_role("root"));
}

struct BadFile {
  const char* why;
  std::string text;
  const char* message;
};

TEST(Credentials, RefusesEveryBrokenRuleWithTheReason) {
  const std::vector<BadFile> cases = {
      {"short secret", "credentials:\n  - {name: a, role: viewer, secret: abc}\n", "at least 32"},
      {"both", "credentials:\n  - {name: a, role: viewer, rack: r01, secret: " + kA + "}\n", "not both"},
      {"neither", "credentials:\n  - {name: a, secret: " + kA + "}\n", "either rack"},
      {"bad role", "credentials:\n  - {name: a, role: root, secret: " + kA + "}\n", "'root'"},
      {"same name",
       "credentials:\n  - {name: a, role: viewer, secret: " + kA + "}\n  - {name: a, role: viewer, secret: " + kB +
           "}\n",
       "named twice"},
      {"same secret",
       "credentials:\n  - {name: a, role: viewer, secret: " + kA + "}\n  - {name: b, rack: r01, secret: " + kA + "}\n",
       "its own"},
      {"unknown key", "credentials:\n  - {name: a, role: viewer, secret: " + kA + ", colour: red}\n", "colour"},
      {"empty list", "credentials: []\n", "no credentials"},
      {"not a list", "credentials: {name: a}\n", "a list"},
  };
  for (const auto& c : cases) {
    auto book = CredentialBook::parse(c.text, "creds.yaml");
    ASSERT_FALSE(book) << c.why;
    EXPECT_NE(book.error().message.find(c.message), std::string::npos) << c.why << ": " << book.error().message;
  }
}

TEST(Credentials, AFileOthersMayReadIsRefused) {
  std::random_device entropy;
  const auto path = std::filesystem::temp_directory_path() / ("kiln-creds-" + std::to_string(entropy()));
  std::ofstream(path) << "credentials:\n  - {name: a, role: viewer, secret: " << kA << "}\n";
  ::chmod(path.c_str(), 0644);
  auto open = CredentialBook::load_file(path.string());
  ASSERT_FALSE(open);
  EXPECT_NE(open.error().message.find("chmod 600"), std::string::npos) << open.error().message;
  ::chmod(path.c_str(), 0600);
  auto book = CredentialBook::load_file(path.string());
  ASSERT_TRUE(book) << book.error().message;
  EXPECT_NE(book->find(kA), nullptr);
  std::filesystem::remove(path);
  EXPECT_FALSE(CredentialBook::load_file(path.string()));
}

}  // namespace
}  // namespace kiln::daemon
