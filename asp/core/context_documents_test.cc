// Context documents on the wire (docs/protocol.md §3, §7; docs/lifecycle.md): a session
// whose option is VD_FIRST or VD_SYNC sends the module's context documents as DataContext
// messages after its values (seqs after theirs); other options send none; sessions never
// drop them (clearContexts() does); a bounded DELTA leaves room for them in each session.
#include <string>
#include <vector>

#include "asp/core/protocol_harness.h"
#include "gtest/gtest.h"

namespace asp {
namespace {

using testing::kIndex;
using testing::ProtocolHarness;
using wire::v1::Message;

constexpr char kContextIndex[] = "states-vd-context";

ProtocolHarness::Customize atMost(uint64_t values, uint64_t bytes = 0) {
  return [values, bytes](AgentSyncProtocol::Options& o) {
    o.session.max_session_values = values;
    o.session.max_session_bytes = bytes;
  };
}

// What each session sent, in order: "v<seq>" per value, "c<seq>:<id>" per context
// document, "x<seq>" per clean; one entry per Start.
std::vector<std::vector<std::string>> dataBySession(const ProtocolHarness& h) {
  std::vector<std::vector<std::string>> sessions;
  for (const Message& m : h.transport.sent()) {
    if (m.has_start()) sessions.emplace_back();
    if (sessions.empty()) continue;
    std::vector<std::string>& data = sessions.back();
    if (m.has_data_value()) data.push_back("v" + std::to_string(m.data_value().seq()));
    for (const wire::v1::DataValue& v : m.data_batch().values()) {
      data.push_back("v" + std::to_string(v.seq()));
    }
    if (m.has_data_context()) {
      data.push_back("c" + std::to_string(m.data_context().seq()) + ":" + m.data_context().id());
    }
    if (m.has_data_clean()) data.push_back("x" + std::to_string(m.data_clean().seq()));
  }
  return sessions;
}

std::vector<Message> starts(const ProtocolHarness& h) {
  std::vector<Message> found;
  for (const Message& m : h.transport.sent()) {
    if (m.has_start()) found.push_back(m);
  }
  return found;
}

void recordContexts(ProtocolHarness& h, const std::vector<std::string>& ids) {
  for (const std::string& id : ids) {
    ASSERT_TRUE(h.protocol->queue()
                    .recordContext(Change{id, kContextIndex, Operation::kModify, "{\"ctx\":1}", 1})
                    .ok());
  }
}

// Context documents still stored (read without a session).
std::vector<std::string> storedContexts(ProtocolHarness& h) {
  absl::StatusOr<PendingPage> page = h.protocol->queue().readPending(PendingQuery{0, 1000, true});
  EXPECT_TRUE(page.ok()) << page.status();
  std::vector<std::string> ids;
  for (const PendingItem& item : page.value_or(PendingPage{}).items) {
    if (item.is_context) ids.push_back(item.id);
  }
  return ids;
}

TEST(ContextDocuments, VdFirstAndVdSyncSendContextsAfterTheValuesWithTheNextSeqs) {
  for (SyncOption option : {SyncOption::kVdFirst, SyncOption::kVdSync}) {
    SCOPED_TRACE(syncOptionName(option));
    ProtocolHarness h;
    recordContexts(h, {"os"});
    h.record("pkg-1", Operation::kCreate, "a");
    recordContexts(h, {"hotfixes"});
    h.record("pkg-2", Operation::kCreate, "b");
    h.record("pkg-3", Operation::kCreate, "c");
    SyncResult result = h.protocol->synchronizeModule(Mode::kDelta, option);
    ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
    ASSERT_EQ(starts(h).size(), 1u);
    EXPECT_EQ(starts(h)[0].start().size(), 5u);
    EXPECT_EQ(static_cast<int>(starts(h)[0].start().option()), static_cast<int>(option));
    // The Start lists the values' indices; the contexts travel beside them.
    EXPECT_EQ(starts(h)[0].start().indices().size(), 1);
    EXPECT_EQ(dataBySession(h)[0],
              (std::vector<std::string>{"v0", "v1", "v2", "c3:os", "c4:hotfixes"}));
    EXPECT_EQ(h.managerState(), h.module);
    EXPECT_EQ(h.pending(), 0u);
    // The manager got them with the session, apart from the index state.
    std::vector<std::string> held;
    for (const manager::SessionUpdate::Op& op :
         h.manager.lastContexts({testing::kAgent, testing::kModule})) {
      held.push_back(op.index + "/" + op.id);
    }
    EXPECT_EQ(held, (std::vector<std::string>{std::string(kContextIndex) + "/os",
                                              std::string(kContextIndex) + "/hotfixes"}));
  }
}

TEST(ContextDocuments, PlainDeltaSendsNoContexts) {
  ProtocolHarness h;
  recordContexts(h, {"os"});
  h.record("pkg-1", Operation::kCreate, "a");
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kDelta).code, SyncCode::kOk);
  EXPECT_EQ(starts(h)[0].start().size(), 1u);
  EXPECT_EQ(dataBySession(h)[0], (std::vector<std::string>{"v0"}));
  EXPECT_EQ(storedContexts(h), (std::vector<std::string>{"os"}));
}

TEST(ContextDocuments, VdCleanSendsNoContexts) {
  ProtocolHarness h;
  recordContexts(h, {"os"});
  h.record("pkg-1", Operation::kCreate, "a");
  ASSERT_EQ(h.protocol->notifyDataClean({kIndex}, SyncOption::kVdClean).code, SyncCode::kOk);
  EXPECT_EQ(starts(h)[0].start().option(), wire::v1::OPTION_VD_CLEAN);
  EXPECT_EQ(dataBySession(h)[0], (std::vector<std::string>{"x0"}));
  EXPECT_EQ(storedContexts(h), (std::vector<std::string>{"os"}));
}

TEST(ContextDocuments, ContextsAloneAreNothingToDo) {
  ProtocolHarness h;
  recordContexts(h, {"os", "hotfixes"});
  EXPECT_EQ(h.protocol->synchronizeModule(Mode::kDelta, SyncOption::kVdFirst).code,
            SyncCode::kNothingToDo);
  EXPECT_TRUE(h.transport.sent().empty());
}

TEST(ContextDocuments, ReqRetForAContextSeqSendsThatDocumentAgain) {
  ProtocolHarness h;
  h.record("pkg-1", Operation::kCreate, "a");
  h.record("pkg-2", Operation::kCreate, "b");
  recordContexts(h, {"os", "hotfixes"});
  h.manager.loseSeqsOnce({3});
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta, SyncOption::kVdSync);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_EQ(result.retransmitted, 1u);
  EXPECT_EQ(dataBySession(h)[0],
            (std::vector<std::string>{"v0", "v1", "c2:os", "c3:hotfixes", "c3:hotfixes"}));
}

TEST(ContextDocuments, AContextClearedBeforeItsRetransmissionFailsTheSessionAndKeepsTheValues) {
  ProtocolHarness h;
  h.record("pkg-1", Operation::kCreate, "a");
  recordContexts(h, {"os"});
  // The manager asks for the context again, and the module cleared it meanwhile.
  h.manager.replaceNextEndAnswer([&h](uint64_t session) {
    EXPECT_TRUE(h.protocol->queue().clearContexts().ok());
    return testing::reqRet(session, {{1, 1}});
  });
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta, SyncOption::kVdFirst);
  EXPECT_EQ(result.code, SyncCode::kStorageError);
  EXPECT_NE(result.message.find("context document 0 is missing"), std::string::npos)
      << result.message;
  EXPECT_EQ(h.pending(), 1u);
  h.expectNextDeltaSendsAndConverges(1);
}

TEST(ContextDocuments, SessionsKeepContextsUntilClearContexts) {
  ProtocolHarness h;
  recordContexts(h, {"os"});
  h.record("pkg-1", Operation::kCreate, "a");
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kDelta, SyncOption::kVdFirst).code, SyncCode::kOk);
  EXPECT_EQ(storedContexts(h), (std::vector<std::string>{"os"}));
  h.record("pkg-2", Operation::kCreate, "b");
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kDelta, SyncOption::kVdSync).code, SyncCode::kOk);
  ASSERT_TRUE(h.protocol->queue().clearContexts().ok());
  h.record("pkg-3", Operation::kCreate, "c");
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kDelta, SyncOption::kVdSync).code, SyncCode::kOk);
  EXPECT_EQ(dataBySession(h),
            (std::vector<std::vector<std::string>>{{"v0", "c1:os"}, {"v0", "c1:os"}, {"v0"}}));
}

TEST(ContextDocuments, FailedSessionKeepsItsValuesAndTheContexts) {
  ProtocolHarness h;
  recordContexts(h, {"os"});
  h.record("pkg-1", Operation::kCreate, "a");
  h.manager.answerEndsWith(wire::v1::STATUS_ERROR, 1);
  EXPECT_EQ(h.protocol->synchronizeModule(Mode::kDelta, SyncOption::kVdFirst).code,
            SyncCode::kManagerError);
  EXPECT_EQ(h.pending(), 1u);
  EXPECT_EQ(storedContexts(h), (std::vector<std::string>{"os"}));
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kDelta, SyncOption::kVdFirst).code, SyncCode::kOk);
  EXPECT_EQ(dataBySession(h)[1], (std::vector<std::string>{"v0", "c1:os"}));
}

TEST(ContextDocuments, EachBoundedSessionCarriesTheContextsWithinItsValueBound) {
  ProtocolHarness h(atMost(5));
  recordContexts(h, {"os", "hotfixes"});
  for (int i = 0; i < 7; ++i) h.record("pkg-" + std::to_string(i), Operation::kCreate, "v");
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta, SyncOption::kVdFirst);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_EQ(result.sessions, 3u);
  EXPECT_EQ(dataBySession(h),
            (std::vector<std::vector<std::string>>{{"v0", "v1", "v2", "c3:os", "c4:hotfixes"},
                                                   {"v0", "v1", "v2", "c3:os", "c4:hotfixes"},
                                                   {"v0", "c1:os", "c2:hotfixes"}}));
  EXPECT_EQ(h.managerState(), h.module);
}

TEST(ContextDocuments, BoundedSessionsKeepOneValueWhenContextsFillTheBound) {
  ProtocolHarness h(atMost(2));
  recordContexts(h, {"os", "hotfixes", "kernel"});
  h.record("pkg-1", Operation::kCreate, "a");
  h.record("pkg-2", Operation::kCreate, "b");
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta, SyncOption::kVdSync);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_EQ(result.sessions, 2u);
  for (const Message& start : starts(h)) EXPECT_EQ(start.start().size(), 4u);
}

TEST(ContextDocuments, ContextBytesCountAgainstTheSessionByteBound) {
  // Each value weighs id + index + data = 5 + 16 + 9 = 30 bytes, the two contexts 2 + 17
  // + 9 and 8 + 17 + 9 = 62: a 130-byte bound leaves room for two values per session.
  ProtocolHarness h(atMost(0, 130));
  recordContexts(h, {"os", "hotfixes"});
  for (int i = 0; i < 4; ++i) h.record("pkg-" + std::to_string(i), Operation::kCreate, "123456789");
  SyncResult result = h.protocol->synchronizeModule(Mode::kDelta, SyncOption::kVdFirst);
  ASSERT_EQ(result.code, SyncCode::kOk) << result.message;
  EXPECT_EQ(result.sessions, 2u);
  for (const Message& start : starts(h)) EXPECT_EQ(start.start().size(), 4u);
}

TEST(ContextDocuments, FullWithAVdOptionSendsContextsAfterTheRecoverySet) {
  ProtocolHarness h;
  recordContexts(h, {"os"});
  ASSERT_TRUE(
      h.protocol->persistDifferenceInMemory("pkg-1", Operation::kCreate, kIndex, "a", 1).ok());
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kFull, SyncOption::kVdFirst).code, SyncCode::kOk);
  ASSERT_TRUE(
      h.protocol->persistDifferenceInMemory("pkg-1", Operation::kCreate, kIndex, "a", 1).ok());
  ASSERT_EQ(h.protocol->synchronizeModule(Mode::kFull).code, SyncCode::kOk);
  EXPECT_EQ(dataBySession(h), (std::vector<std::vector<std::string>>{{"v0", "c1:os"}, {"v0"}}));
  EXPECT_EQ(storedContexts(h), (std::vector<std::string>{"os"}));
}

}  // namespace
}  // namespace asp
