#pragma once
// The SQL migrations of schema/sql/NNN_name.sql, compiled into kiln_store by
// cmake/embed_migrations.cmake. kMigrations[i].version == i + 1: versions are
// contiguous from 1, checked when the table is generated.

namespace kiln::store {

struct Migration {
  int version;
  const char* name;  // "initial" for 001_initial.sql
  const char* sql;
};

extern const Migration kMigrations[];
extern const int kMigrationCount;

}  // namespace kiln::store
