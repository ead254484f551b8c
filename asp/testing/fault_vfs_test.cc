// FaultVfs's power loss, on plain SQLite files: what a sync made durable survives,
// what was only written does not, and the dead machine's connections change nothing.
#include "asp/testing/fault_vfs.h"

#include <sqlite3.h>

#include <string>

#include "asp/testing/sqlite_query.h"
#include "asp/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace asp::testing {
namespace {

// One connection through FaultVfs (or SQLite's default VFS), closed on destruction.
class Connection {
 public:
  explicit Connection(const std::string& path, const char* vfs = FaultVfs::kName) {
    rc_ = sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs);
  }
  ~Connection() { sqlite3_close_v2(db_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool opened() const { return rc_ == SQLITE_OK; }
  // "" on success, else SQLite's message.
  std::string exec(const std::string& sql) {
    char* error = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error) == SQLITE_OK) return "";
    std::string message = error != nullptr ? error : "error";
    sqlite3_free(error);
    return message;
  }

 private:
  sqlite3* db_ = nullptr;
  int rc_ = SQLITE_ERROR;
};

class FaultVfsPowerLoss : public ::testing::Test {
 protected:
  void SetUp() override { FaultVfs::get().reset(); }
  void TearDown() override { FaultVfs::get().reset(); }

  std::string rows() { return queryOnce(path_, "SELECT group_concat(v) FROM t", true); }

  TempDir dir_;
  const std::string path_ = dir_.file("power.db");
};

TEST_F(FaultVfsPowerLoss, KeepsWhatWasSyncedAndDropsWhatWasOnlyWritten) {
  {
    Connection db(path_);
    ASSERT_TRUE(db.opened());
    ASSERT_EQ(db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                      "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('synced');"),
              "");
    ASSERT_EQ(db.exec("PRAGMA synchronous = OFF; INSERT INTO t VALUES ('written');"), "");
    FaultVfs::get().losePower();
    EXPECT_TRUE(FaultVfs::get().powerLost());
    EXPECT_GT(FaultVfs::get().bytesDropped(), 0u);
  }
  FaultVfs::get().reset();
  EXPECT_EQ(rows(), "synced");
  EXPECT_EQ(integrityCheck(path_), "ok");
}

TEST_F(FaultVfsPowerLoss, AFileNeverSyncedComesBackEmpty) {
  {
    Connection db(path_);
    ASSERT_EQ(db.exec("PRAGMA synchronous = OFF; PRAGMA journal_mode = WAL;"
                      "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('written');"),
              "");
    FaultVfs::get().losePower();
  }
  FaultVfs::get().reset();
  EXPECT_EQ(readFile(path_).size(), 0u) << "created by the open, never synced";
  EXPECT_EQ(rows(), "<error>") << "no table t";
}

TEST_F(FaultVfsPowerLoss, AFileThatExistedBeforeItsFirstOpenCountsAsSynced) {
  {
    Connection before(path_, nullptr);  // SQLite's own VFS, untracked
    ASSERT_EQ(before.exec("CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('before');"), "");
  }
  {
    Connection db(path_);
    ASSERT_EQ(db.exec("PRAGMA synchronous = OFF; INSERT INTO t VALUES ('written');"), "");
    FaultVfs::get().losePower();
  }
  FaultVfs::get().reset();
  EXPECT_EQ(rows(), "before");
  EXPECT_EQ(integrityCheck(path_), "ok");
}

TEST_F(FaultVfsPowerLoss, NothingTheOldConnectionsDoReachesTheFilesUntilReset) {
  std::string before;
  {
    Connection db(path_);
    ASSERT_EQ(db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                      "CREATE TABLE t (v TEXT); INSERT INTO t VALUES ('synced');"),
              "");
    FaultVfs::get().losePower();
    before = readFile(path_) + readFile(path_ + "-wal");
    // Reported done (or failed), but discarded either way; so is the checkpoint at close.
    (void)db.exec("INSERT INTO t VALUES ('after'); PRAGMA wal_checkpoint(TRUNCATE);");
    EXPECT_FALSE(Connection(dir_.file("other.db")).opened()) << "opens fail while it is off";
  }
  EXPECT_TRUE(readFile(path_) + readFile(path_ + "-wal") == before) << "the files changed";
  FaultVfs::get().reset();
  EXPECT_EQ(rows(), "synced");
  EXPECT_FALSE(FaultVfs::get().powerLost());
  EXPECT_TRUE(Connection(dir_.file("other.db")).opened());
}

TEST_F(FaultVfsPowerLoss, ThePowerGoesOffAtTheChosenWrite) {
  Connection db(path_);
  ASSERT_EQ(db.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;"
                    "CREATE TABLE t (v TEXT);"),
            "");
  const uint64_t writes = FaultVfs::get().writes();
  FaultVfs::get().losePowerAfterWrites(1);
  ASSERT_EQ(db.exec("INSERT INTO t VALUES ('one');"), "");  // at least two writes: frame + commit
  EXPECT_TRUE(FaultVfs::get().powerLost());
  EXPECT_GE(FaultVfs::get().writes() - writes, 2u);
}

}  // namespace
}  // namespace asp::testing
