// The schema comes from the embedded migrations, is applied once, and a
// database this build cannot understand is refused rather than damaged.

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include <SQLiteCpp/Database.h>

#include "schema/migrations.hpp"
#include "schema/store.hpp"
#include "store_test_support.hpp"

namespace kiln::store {
namespace {

using testing::must;
using testing::TempDir;

TEST(StoreMigrations, VersionsAreContiguousFromOne) {
  ASSERT_GE(kMigrationCount, 1);
  for (int i = 0; i < kMigrationCount; ++i) {
    EXPECT_EQ(kMigrations[i].version, i + 1);
    // Each changes the schema (creates or alters a table).
    const std::string sql = kMigrations[i].sql;
    EXPECT_TRUE(sql.find("CREATE") != std::string::npos || sql.find("ALTER TABLE") != std::string::npos)
        << kMigrations[i].name;
  }
  EXPECT_STREQ(kMigrations[0].name, "initial");
}

TEST(StoreMigrations, CreateTheSchemaInWalModeAndRecordTheirVersion) {
  TempDir dir;
  const std::string path = dir.file("kiln.db");
  { auto writer = must(Writer::open(path)); }

  SQLite::Database db(path, SQLite::OPEN_READONLY);
  std::set<std::string> tables;
  SQLite::Statement list(db, "SELECT name FROM sqlite_schema WHERE type = 'table'");
  while (list.executeStep()) tables.insert(list.getColumn(0).getString());
  for (const char* table : {"schema_migrations", "labs", "racks", "chips", "plans", "runs", "steps", "run_chips",
                            "chip_steps", "chip_step_metrics", "detections", "failures", "events", "metric_names",
                            "telemetry_open", "telemetry_chunks", "telemetry_rollups", "ingested_batches"}) {
    EXPECT_TRUE(tables.count(table)) << "missing table " << table;
  }
  EXPECT_EQ(db.execAndGet("PRAGMA journal_mode").getString(), "wal");
  EXPECT_EQ(db.execAndGet("SELECT count(*) FROM schema_migrations").getInt(), kMigrationCount);
  EXPECT_EQ(db.execAndGet("SELECT max(version) FROM schema_migrations").getInt(), kMigrationCount);
  EXPECT_EQ(db.execAndGet("PRAGMA user_version").getInt(), kMigrationCount);
}

TEST(StoreMigrations, ReopeningIsIdempotentAndKeepsData) {
  TempDir dir;
  const std::string path = dir.file("kiln.db");
  std::uint64_t run_id = 0;
  {
    auto writer = must(Writer::open(path));
    run_id = must(writer->create_run(testing::make_run()));
  }
  for (int i = 0; i < 2; ++i) {
    auto writer = must(Writer::open(path));
  }
  EXPECT_EQ(testing::count_rows(path, "schema_migrations"), kMigrationCount);
  auto reader = must(Reader::open(path));
  EXPECT_EQ(must(reader->run(run_id)).plan_name, "smoke");
}

TEST(StoreMigrations, RefuseADatabaseNewerThanThisBuild) {
  TempDir dir;
  const std::string path = dir.file("kiln.db");
  { auto writer = must(Writer::open(path)); }
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("INSERT INTO schema_migrations (version, name, applied_unix_ms) VALUES (" +
            std::to_string(kMigrationCount + 1) + ", 'from_the_future', 0)");
  }
  const auto writer = Writer::open(path);
  ASSERT_FALSE(writer);
  EXPECT_EQ(writer.error().code, ErrorCode::conflict);
  EXPECT_NE(writer.error().message.find("newer"), std::string::npos) << writer.error().message;

  const auto reader = Reader::open(path);
  ASSERT_FALSE(reader);
  EXPECT_EQ(reader.error().code, ErrorCode::conflict);
}

TEST(StoreMigrations, RefuseSomeoneElsesDatabaseWithoutTouchingIt) {
  TempDir dir;
  const std::string path = dir.file("other.db");
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("CREATE TABLE inventory (id INTEGER PRIMARY KEY)");
  }
  const auto writer = Writer::open(path);
  ASSERT_FALSE(writer);
  EXPECT_EQ(writer.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(writer.error().message.find("not a Kiln database"), std::string::npos) << writer.error().message;

  SQLite::Database db(path, SQLite::OPEN_READONLY);
  EXPECT_FALSE(db.tableExists("schema_migrations"));
  EXPECT_FALSE(db.tableExists("runs"));
}

TEST(StoreMigrations, RefuseAFileThatIsNotADatabase) {
  TempDir dir;
  const std::string path = dir.file("notes.db");
  {
    std::FILE* file = std::fopen(path.c_str(), "wb");
    ASSERT_NE(file, nullptr);
    const std::string text(4096, 'x');
    std::fwrite(text.data(), 1, text.size(), file);
    std::fclose(file);
  }
  const auto writer = Writer::open(path);
  ASSERT_FALSE(writer);
  EXPECT_EQ(writer.error().code, ErrorCode::invalid_argument) << writer.error().message;
  const auto reader = Reader::open(path);
  ASSERT_FALSE(reader);
  EXPECT_EQ(reader.error().code, ErrorCode::invalid_argument) << reader.error().message;
}

TEST(StoreMigrations, WriterOpenFailsCleanlyInAMissingDirectory) {
  TempDir dir;
  const auto writer = Writer::open(dir.file("no/such/dir/kiln.db"));
  ASSERT_FALSE(writer);
  EXPECT_EQ(writer.error().code, ErrorCode::io) << writer.error().message;
}

}  // namespace
}  // namespace kiln::store
