// deleteDatabase() when the queue's file is already gone, and when it cannot be removed:
// the call says what happened, nothing acknowledged is lost without being asked for, and
// the instance stays usable.
#include <sys/stat.h>

#include <cstdio>
#include <string>

#include "asp/core/protocol_harness.h"
#include "asp/testing/fault_vfs.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using testing::FaultVfs;
using testing::ProtocolHarness;

bool exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

// Someone removed the files under the running module: there is nothing left to delete,
// which is what the module asked for. The queue starts a new, empty file.
TEST(DeleteDatabase, AFileAlreadyMissingIsDeletedAndTheQueueStartsAnew) {
  ProtocolHarness h;
  h.record("a", Operation::kCreate, "1");
  h.record("b", Operation::kCreate, "2");
  const std::string path = h.dir.file("fim_sync.db");
  for (const char* suffix : {"", "-wal", "-shm"}) std::remove((path + suffix).c_str());
  ASSERT_FALSE(exists(path));

  absl::Status deleted = h.protocol->deleteDatabase();
  ASSERT_TRUE(deleted.ok()) << deleted;
  EXPECT_TRUE(exists(path)) << "a new queue file";
  EXPECT_EQ(h.pending(), 0u);
  h.module.clear();
  h.record("c", Operation::kCreate, "3");
  h.expectNextDeltaSendsAndConverges(1);
}

// The file cannot be removed (permission denied): an error naming the file and the
// reason; the queue opens it again with every change in it, so nothing is lost and
// syncing goes on; once the cause is gone, the delete goes through.
TEST(DeleteDatabase, AFileThatCannotBeRemovedIsAnErrorAndTheQueueKeepsItsChanges) {
  FaultVfs::get().reset();
  ProtocolHarness h([](AgentSyncProtocol::Options& o) { o.sqlite_vfs = FaultVfs::kName; });
  for (int i = 0; i < 3; ++i) h.record("id" + std::to_string(i), Operation::kCreate, "v");
  const std::string path = h.dir.file("fim_sync.db");

  FaultVfs::get().failDeletes(true);
  absl::Status deleted = h.protocol->deleteDatabase();
  EXPECT_EQ(deleted.code(), absl::StatusCode::kFailedPrecondition) << deleted;
  EXPECT_EQ(deleted.message(),
            "cannot delete '" + path + "': Permission denied; the queue keeps its changes");
  EXPECT_TRUE(exists(path));
  EXPECT_EQ(h.pending(), 3u);
  h.record("id3", Operation::kCreate, "v");
  h.expectNextDeltaSendsAndConverges(4);

  FaultVfs::get().failDeletes(false);
  h.record("id4", Operation::kCreate, "v");
  ASSERT_TRUE(h.protocol->deleteDatabase().ok());
  EXPECT_EQ(h.pending(), 0u);
  FaultVfs::get().reset();
}

}  // namespace
}  // namespace asp
