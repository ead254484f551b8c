// The coalescing table of docs/protocol.md §6 (row by row as docs/storage.md refines
// it), as one parameterized test over its rows, on the SQLite queue: what is queued
// now, what the module records, what the queue then holds. Each row is an instance
// named after it; Section6/ holds the rows of the table, InFlight/ those where the
// change is in a session when it is recorded (or was in one that failed).
//
// "Holds" is what the next session sends, in order. "New" is observed the only way a
// user can: a later DELETE cancels a new change and is sent for one that is not new.
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "asp/storage/queue_test_util.h"
#include "asp/testing/temp_dir.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using testing::beginAndReadAll;
using testing::makeChange;

constexpr char kIndex[] = "states-fim-files";

Change create(const std::string& id, const std::string& data, uint64_t version = 0,
              const std::string& index = kIndex) {
  return makeChange(id, Operation::kCreate, data, version, index);
}
Change modify(const std::string& id, const std::string& data, uint64_t version = 0,
              const std::string& index = kIndex) {
  return makeChange(id, Operation::kModify, data, version, index);
}
Change remove(const std::string& id, const std::string& data = "", uint64_t version = 0) {
  return makeChange(id, Operation::kDelete, data, version, kIndex);
}

// One change as a session sends it, readable in a failure message.
std::string sent(const std::string& id, bool is_delete, const std::string& data, uint64_t version,
                 const std::string& index = kIndex) {
  return std::string(is_delete ? "delete " : "upsert ") + id + " '" + data + "' version " +
         std::to_string(version) + " in " + index;
}
std::string upsert(const std::string& id, const std::string& data, uint64_t version = 0,
                   const std::string& index = kIndex) {
  return sent(id, false, data, version, index);
}
std::string deletion(const std::string& id, const std::string& data = "", uint64_t version = 0) {
  return sent(id, true, data, version);
}
std::vector<std::string> describe(const std::vector<SessionChange>& changes) {
  std::vector<std::string> out;
  for (const SessionChange& c : changes) {
    out.push_back(sent(c.id, c.is_delete, c.data, c.version, c.index));
  }
  return out;
}

// In-flight rows: how the session that `queued_now` went into ends, after `recorded`.
enum class Session { kNone, kCommitted, kAborted };
// Whether the change of id "a" is new, by what a DELETE recorded after it does.
enum class Newness { kNotChecked, kNew, kNotNew };

struct Row {
  const char* name;
  std::vector<Change> queued_now;  // recorded first (in-flight rows: then sent in a session)
  std::vector<Change> recorded;    // what the module records (in-flight rows: meanwhile)
  std::vector<std::string> holds;  // what the next session sends, in order
  Session session = Session::kNone;
  Newness is_new = Newness::kNotChecked;
  // In-flight rows: what the session sends when the manager asks again, before it ends.
  std::vector<std::string> resent = {};
};

void PrintTo(const Row& row, std::ostream* out) { *out << row.name; }

const Row kSection6[] = {
    // nothing | CREATE | a pending upsert, new
    {"CreateOnEmptyQueuesUpsert", {}, {create("a", "v1", 1)}, {upsert("a", "v1", 1)}},
    {"CreateOnEmptyIsNew",
     {},
     {create("a", "v1")},
     {upsert("a", "v1")},
     Session::kNone,
     Newness::kNew},
    // nothing | MODIFY | a pending upsert (not new)
    {"ModifyOnEmptyQueuesUpsertThatIsNotNew",
     {},
     {modify("a", "v2", 2)},
     {upsert("a", "v2", 2)},
     Session::kNone,
     Newness::kNotNew},
    // nothing | DELETE | a pending delete
    {"DeleteOnEmptyQueuesDelete", {}, {remove("a", "", 4)}, {deletion("a", "", 4)}},
    // a pending upsert | CREATE or MODIFY | the newest data, version and index; "new" kept
    {"CreateOrModifyOnPendingUpsertKeepsNewestDataAndVersion",
     {create("a", "v1", 1), modify("a", "v2", 2)},
     {create("a", "v3", 3)},
     {upsert("a", "v3", 3)}},
    {"PendingUpsertStaysNewAfterModify",
     {create("a", "v1")},
     {modify("a", "v2")},
     {upsert("a", "v2")},
     Session::kNone,
     Newness::kNew},
    {"NewestIndexWins",
     {create("a", "v1", 1, "idx-1")},
     {modify("a", "v2", 2, "idx-2")},
     {upsert("a", "v2", 2, "idx-2")}},
    // a pending upsert, new | DELETE | nothing: the manager never saw it
    {"DeleteOfNewUnsentItemCancelsIt",
     {create("a", "v1"), create("b", "v1")},
     {remove("a")},
     {upsert("b", "v1")}},
    // a pending upsert, not new | DELETE | a pending delete
    {"DeleteOfPendingUpsertThatIsNotNewQueuesDelete",
     {modify("a", "v1", 1)},
     {remove("a", "gone", 2)},
     {deletion("a", "gone", 2)}},
    // a pending delete | CREATE or MODIFY | a pending upsert, not new (the manager still
    // holds the document the delete was for)
    {"CreateOrModifyOnPendingDeleteQueuesUpsert",
     {remove("a", "", 1)},
     {create("a", "back", 2)},
     {upsert("a", "back", 2)}},
    {"UpsertReplacingPendingDeleteIsNotNew",
     {remove("a")},
     {create("a", "back")},
     {upsert("a", "back")},
     Session::kNone,
     Newness::kNotNew},
    // a pending delete | DELETE | one pending delete, newest version
    {"DeleteOfPendingDeleteKeepsOneDelete",
     {remove("a", "", 1)},
     {remove("a", "", 2)},
     {deletion("a", "", 2)}},
};

const Row kInFlight[] = {
    // a change in flight | anything | the in-flight copy unchanged (even when asked
    // again); the newest change kept, pending after the session
    {"ChangeInFlightIsUnchangedAndNewestStaysPendingAfterCommit",
     {create("a", "v1", 1)},
     {modify("a", "v2", 2)},
     {upsert("a", "v2", 2)},
     Session::kCommitted,
     Newness::kNotChecked,
     /*resent=*/{upsert("a", "v1", 1)}},
    // After a failed session: the newest content, at its first-recorded position.
    {"ChangeInFlightTakesNewestContentAfterAbort",
     {create("a", "v1", 1), create("b", "b1", 1)},
     {modify("a", "v2", 2)},
     {upsert("a", "v2", 2), upsert("b", "b1", 1)},
     Session::kAborted},
    // Sent in a session that did not confirm: the manager may have applied it.
    {"ChangeSentInFailedSessionIsNoLongerNew",
     {create("a", "v1")},
     {},
     {upsert("a", "v1")},
     Session::kAborted,
     Newness::kNotNew},
    {"DeleteDuringFlightOfUpsertIsSentAfterCommit",
     {create("a", "v1")},
     {remove("a")},
     {deletion("a")},
     Session::kCommitted},
    // A create while an upsert is in flight is not new: that upsert may land.
    {"CreateThenDeleteDuringFlightOfUpsertStillSendsDelete",
     {create("a", "v1")},
     {create("a", "v2"), remove("a")},
     {deletion("a")},
     Session::kCommitted},
    // A create while a delete is in flight is new once that delete is confirmed.
    {"CreateDuringFlightOfDeleteIsNewAfterCommit",
     {remove("a")},
     {create("a", "v1")},
     {upsert("a", "v1")},
     Session::kCommitted,
     Newness::kNew},
    {"CreateDuringFlightOfDeleteIsNotNewAfterAbort",
     {remove("a")},
     {create("a", "v1")},
     {upsert("a", "v1")},
     Session::kAborted,
     Newness::kNotNew},
};

class CoalescingTest : public ::testing::TestWithParam<Row> {
 protected:
  void recordAll(SqliteChangeQueue& queue, const std::vector<Change>& changes) {
    for (const Change& change : changes) {
      const absl::Status status = queue.record(change);
      EXPECT_TRUE(status.ok()) << status << " recording " << change.id;
    }
  }

  // A queue in `file` that went through the row: queued now, then recorded.
  std::unique_ptr<SqliteChangeQueue> play(const std::string& file) {
    const Row& row = GetParam();
    std::unique_ptr<SqliteChangeQueue> queue = testing::openQueue(dir_.file(file));
    if (queue == nullptr) return nullptr;
    recordAll(*queue, row.queued_now);
    if (row.session == Session::kNone) {
      recordAll(*queue, row.recorded);
      return queue;
    }
    const uint64_t in_flight = beginAndReadAll(*queue).size();
    recordAll(*queue, row.recorded);
    if (!row.resent.empty()) {
      EXPECT_EQ(describe(testing::readAllInFlight(*queue, in_flight)), row.resent)
          << "the session keeps sending its frozen copy";
    }
    const absl::Status ended =
        row.session == Session::kCommitted ? queue->commitSession() : queue->abortSession();
    EXPECT_TRUE(ended.ok()) << ended;
    return queue;
  }

  testing::TempDir dir_;
};

TEST_P(CoalescingTest, Row) {
  const Row& row = GetParam();
  std::unique_ptr<SqliteChangeQueue> queue = play("fim_sync.db");
  ASSERT_NE(queue, nullptr);
  EXPECT_EQ(describe(beginAndReadAll(*queue)), row.holds) << "what the queue then holds";
  if (row.is_new == Newness::kNotChecked) return;

  // The same again in another file (the session above changed what is new), then a
  // DELETE of "a".
  std::unique_ptr<SqliteChangeQueue> probe = play("probe.db");
  ASSERT_NE(probe, nullptr);
  ASSERT_TRUE(probe->record(remove("a", "", 99)).ok());
  std::vector<SessionChange> of_a;
  for (SessionChange& change : beginAndReadAll(*probe)) {
    if (change.id == "a") of_a.push_back(std::move(change));
  }
  const std::vector<std::string> after_delete = describe(of_a);
  if (row.is_new == Newness::kNew) {
    EXPECT_TRUE(after_delete.empty()) << "new: the DELETE cancels it, nothing is sent";
  } else {
    EXPECT_EQ(after_delete, std::vector<std::string>{deletion("a", "", 99)})
        << "not new: the manager may hold it, so the DELETE is sent";
  }
}

std::string rowName(const ::testing::TestParamInfo<Row>& info) { return info.param.name; }

INSTANTIATE_TEST_SUITE_P(Section6, CoalescingTest, ::testing::ValuesIn(kSection6), rowName);
INSTANTIATE_TEST_SUITE_P(InFlight, CoalescingTest, ::testing::ValuesIn(kInFlight), rowName);

}  // namespace
}  // namespace asp
