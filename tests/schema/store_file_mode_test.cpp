// The database holds every result and the audit trail: only its owner may
// read it (DESIGN §8), whatever the umask of the process that creates it.
#include <sys/stat.h>

#include <filesystem>
#include <random>

#include <gtest/gtest.h>

#include "schema/store.hpp"

namespace kiln::store {
namespace {

namespace fs = std::filesystem;

unsigned mode_of(const fs::path& path) {
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

class FileMode : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device entropy;
    dir_ = fs::temp_directory_path() / ("kiln-mode-" + std::to_string(entropy()));
    fs::create_directories(dir_);
    old_umask_ = ::umask(022);  // the usual one: it would make new files 0644
  }
  void TearDown() override {
    ::umask(old_umask_);
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  fs::path dir_;
  mode_t old_umask_ = 0;
};

TEST_F(FileMode, ANewDatabaseAndItsWalAndShmAreTheOwnersOnly) {
  const fs::path db = dir_ / "kiln.db";
  auto writer = Writer::open(db.string());
  ASSERT_TRUE(writer) << writer.error().message;
  // A write, so that the WAL and its index exist.
  EventRow event;
  event.kind = "note";
  event.unix_ms = 1;
  ASSERT_TRUE((*writer)->add_event(event));
  ASSERT_TRUE(fs::exists(db.string() + "-wal"));
  ASSERT_TRUE(fs::exists(db.string() + "-shm"));
  EXPECT_EQ(mode_of(db), 0600u);
  EXPECT_EQ(mode_of(db.string() + "-wal"), 0600u);
  EXPECT_EQ(mode_of(db.string() + "-shm"), 0600u);
}

TEST_F(FileMode, AnExistingDatabaseOthersCouldReadIsMadePrivate) {
  const fs::path db = dir_ / "kiln.db";
  { ASSERT_TRUE(Writer::open(db.string())); }
  ::chmod(db.c_str(), 0644);
  auto writer = Writer::open(db.string());
  ASSERT_TRUE(writer) << writer.error().message;
  EXPECT_EQ(mode_of(db), 0600u);
}

}  // namespace
}  // namespace kiln::store
