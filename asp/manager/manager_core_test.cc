// The reference manager's session handling (docs/protocol.md §7), message by message.
#include "asp/manager/manager_core.h"

#include <set>

#include "asp/base/checksum.h"
#include "asp/manager/core_test_util.h"
#include "asp/testing/simulated_clock.h"
#include "asp/testing/state_drift.h"
#include "gtest/gtest.h"

namespace asp::manager {
namespace {

using wire::v1::Message;

class ManagerCoreTest : public ::testing::Test {
 protected:
  ManagerCoreTest() : core_(options(), &store_) {}

  ManagerCore::Options options() {
    ManagerCore::Options o;
    o.clock = &clock_;
    o.seed = 1;
    o.max_sessions = 2;
    o.max_session_size = 1000;
    o.idle_timeout = absl::Minutes(1);
    return o;
  }

  Message start(const std::string& agent, wire::v1::Mode mode, uint64_t size,
                std::vector<std::string> indices = {"idx"}, const std::string& module = "fim") {
    Message m;
    m.mutable_start()->set_module(module);
    m.mutable_start()->set_mode(mode);
    m.mutable_start()->set_size(size);
    for (const std::string& i : indices) m.mutable_start()->add_indices(i);
    m.mutable_start()->mutable_agent()->set_id(agent);
    return m;
  }

  uint64_t open(const std::string& agent, wire::v1::Mode mode, uint64_t size,
                std::vector<std::string> indices = {"idx"}) {
    std::vector<Message> answers = core_.handle(start(agent, mode, size, indices));
    EXPECT_EQ(answers.size(), 1u);
    EXPECT_EQ(answers[0].start_ack().status(), wire::v1::STATUS_OK);
    return answers[0].start_ack().session();
  }

  void value(uint64_t session, uint64_t seq, const std::string& id, const std::string& data,
             bool remove = false, const std::string& index = "idx") {
    Message m;
    wire::v1::DataValue* v = m.mutable_data_value();
    v->set_session(session);
    v->set_seq(seq);
    v->set_id(id);
    v->set_index(index);
    v->set_data(data);
    v->set_operation(remove ? wire::v1::OPERATION_DELETE : wire::v1::OPERATION_UPSERT);
    EXPECT_TRUE(core_.handle(m).empty());
  }

  Message end(uint64_t session) { return core_testing::endSession(core_, session); }

  testing::SimulatedClock clock_;
  InMemoryStateStore store_;
  ManagerCore core_;
};

TEST_F(ManagerCoreTest, DeltaIsAppliedAtEndWhenEverySeqArrived) {
  const uint64_t s = open("001", wire::v1::MODE_DELTA, 2);
  EXPECT_NE(s, 0u);
  value(s, 0, "a", "A");
  EXPECT_TRUE(store_.documents({"001", "fim"}, "idx")->empty()) << "nothing applied before End";
  value(s, 1, "b", "B");
  Message ack = end(s);
  EXPECT_EQ(ack.end_ack().status(), wire::v1::STATUS_OK);
  EXPECT_EQ(ack.end_ack().session(), s);
  EXPECT_EQ(store_.documents({"001", "fim"}, "idx")->size(), 2u);
}

TEST_F(ManagerCoreTest, MissingSeqsAreRequestedInCoalescedRanges) {
  const uint64_t s = open("001", wire::v1::MODE_DELTA, 10);
  for (uint64_t seq : {0, 4, 5, 9}) value(s, seq, "id" + std::to_string(seq), "x");
  Message req = end(s);
  ASSERT_TRUE(req.has_req_ret());
  ASSERT_EQ(req.req_ret().ranges_size(), 2);
  EXPECT_EQ(req.req_ret().ranges(0).begin(), 1u);
  EXPECT_EQ(req.req_ret().ranges(0).end(), 3u);
  EXPECT_EQ(req.req_ret().ranges(1).begin(), 6u);
  EXPECT_EQ(req.req_ret().ranges(1).end(), 8u);
}

TEST_F(ManagerCoreTest, DuplicatesAreHarmlessAndOutOfRangeSeqsIgnored) {
  const uint64_t s = open("001", wire::v1::MODE_DELTA, 1);
  value(s, 0, "a", "first");
  value(s, 0, "a", "again");
  value(s, 5, "z", "out of range");
  EXPECT_EQ(end(s).end_ack().status(), wire::v1::STATUS_OK);
  EXPECT_EQ(store_.documents({"001", "fim"}, "idx")->at("a").data, "first");
  EXPECT_EQ(core_.counters().duplicate_data, 1u);
}

TEST_F(ManagerCoreTest, ARepeatedEndGetsTheSameAnswerAndAnUnknownOneAnError) {
  const uint64_t s = open("001", wire::v1::MODE_DELTA, 0);
  EXPECT_EQ(end(s).end_ack().status(), wire::v1::STATUS_OK);
  EXPECT_EQ(end(s).end_ack().status(), wire::v1::STATUS_OK);
  Message unknown = end(s + 1);
  EXPECT_EQ(unknown.end_ack().status(), wire::v1::STATUS_ERROR);
  EXPECT_EQ(unknown.end_ack().session(), s + 1);
}

TEST_F(ManagerCoreTest, FullReplacesTheListedIndices) {
  ASSERT_TRUE(testing::putDocument(store_, {"001", "fim"}, "idx", "old", {"x", 1}).ok());
  ASSERT_TRUE(testing::putDocument(store_, {"001", "fim"}, "other", "keep", {"x", 1}).ok());
  const uint64_t s = open("001", wire::v1::MODE_FULL, 1);
  value(s, 0, "new", "N");
  EXPECT_EQ(end(s).end_ack().status(), wire::v1::STATUS_OK);
  EXPECT_EQ(store_.documents({"001", "fim"}, "idx")->size(), 1u);
  EXPECT_EQ(store_.documents({"001", "fim"}, "idx")->count("new"), 1u);
  EXPECT_EQ(store_.documents({"001", "fim"}, "other")->size(), 1u);
}

TEST_F(ManagerCoreTest, CleansEmptyAnIndexInSeqOrder) {
  const uint64_t s = open("001", wire::v1::MODE_DELTA, 2);
  Message clean;
  clean.mutable_data_clean()->set_session(s);
  clean.mutable_data_clean()->set_seq(0);
  clean.mutable_data_clean()->set_index("idx");
  ASSERT_TRUE(testing::putDocument(store_, {"001", "fim"}, "idx", "old", {"x", 1}).ok());
  core_.handle(clean);
  value(s, 1, "after", "A");
  EXPECT_EQ(end(s).end_ack().status(), wire::v1::STATUS_OK);
  EXPECT_EQ(store_.documents({"001", "fim"}, "idx")->size(), 1u);
  EXPECT_EQ(store_.documents({"001", "fim"}, "idx")->count("after"), 1u);
}

TEST_F(ManagerCoreTest, CheckComparesChecksums) {
  ASSERT_TRUE(testing::putDocument(store_, {"001", "fim"}, "idx", "a", {"A", 1}).ok());
  for (const auto& [checksum, expected] : std::vector<std::pair<std::string, wire::v1::Status>>{
           {sha1Hex(sha1Hex("A")), wire::v1::STATUS_OK},
           {sha1Hex("nope"), wire::v1::STATUS_CHECKSUM_MISMATCH}}) {
    const uint64_t s = open("001", wire::v1::MODE_CHECK, 0);
    Message m;
    m.mutable_checksum_module()->set_session(s);
    m.mutable_checksum_module()->set_index("idx");
    m.mutable_checksum_module()->set_checksum(checksum);
    core_.handle(m);
    EXPECT_EQ(end(s).end_ack().status(), expected);
  }
  const uint64_t no_checksum = open("001", wire::v1::MODE_CHECK, 0);
  EXPECT_EQ(end(no_checksum).end_ack().status(), wire::v1::STATUS_ERROR);
}

TEST_F(ManagerCoreTest, StartValidationAndLimits) {
  std::vector<Message> no_agent = core_.handle(start("", wire::v1::MODE_DELTA, 1));
  EXPECT_EQ(no_agent[0].start_ack().status(), wire::v1::STATUS_ERROR);
  std::vector<Message> too_big = core_.handle(start("001", wire::v1::MODE_DELTA, 1001));
  EXPECT_EQ(too_big[0].start_ack().status(), wire::v1::STATUS_OFFLINE);
  std::vector<Message> metadata_with_data =
      core_.handle(start("001", wire::v1::MODE_METADATA_DELTA, 3));
  EXPECT_EQ(metadata_with_data[0].start_ack().status(), wire::v1::STATUS_ERROR);
  open("001", wire::v1::MODE_DELTA, 1);
  open("002", wire::v1::MODE_DELTA, 1);
  std::vector<Message> third = core_.handle(start("003", wire::v1::MODE_DELTA, 1));
  EXPECT_EQ(third[0].start_ack().status(), wire::v1::STATUS_OFFLINE) << "max_sessions = 2";
  EXPECT_EQ(core_.activeSessions(), 2u);
}

TEST_F(ManagerCoreTest, ANewStartFromTheSameAgentAndModuleReplacesItsSession) {
  const uint64_t first = open("001", wire::v1::MODE_DELTA, 1);
  const uint64_t second = open("001", wire::v1::MODE_DELTA, 2);
  EXPECT_NE(first, second);
  EXPECT_EQ(core_.activeSessions(), 1u);
  EXPECT_EQ(end(first).end_ack().status(), wire::v1::STATUS_ERROR);
  std::vector<Message> other_module =
      core_.handle(start("001", wire::v1::MODE_DELTA, 1, {"idx"}, "sca"));
  EXPECT_EQ(other_module[0].start_ack().status(), wire::v1::STATUS_OK);
  EXPECT_EQ(core_.activeSessions(), 2u);
}

TEST_F(ManagerCoreTest, IdleSessionsAreDropped) {
  const uint64_t s = open("001", wire::v1::MODE_DELTA, 1);
  clock_.advance(absl::Minutes(2));
  core_.expireIdle();
  EXPECT_EQ(core_.activeSessions(), 0u);
  EXPECT_EQ(core_.counters().sessions_expired, 1u);
  EXPECT_EQ(end(s).end_ack().status(), wire::v1::STATUS_ERROR);
}

TEST_F(ManagerCoreTest, MetadataSessionsRecordTheGlobalVersion) {
  Message m = start("001", wire::v1::MODE_GROUP_DELTA, 0, {"a", "b"});
  m.mutable_start()->set_global_version(7);
  const uint64_t s = core_.handle(m)[0].start_ack().session();
  EXPECT_EQ(end(s).end_ack().status(), wire::v1::STATUS_OK);
  EXPECT_EQ(store_.metadata({"001", "fim"})->global_version, 7u);
  EXPECT_EQ(store_.metadata({"001", "fim"})->indices, (std::vector<std::string>{"a", "b"}));
}

TEST_F(ManagerCoreTest, MalformedBytesAreRejectedAndAnInvalidStartGetsError) {
  EXPECT_FALSE(core_.handleBytes("\xff\xff garbage").ok());
  Message bad = start("001", wire::v1::MODE_UNSPECIFIED, 1);
  absl::StatusOr<std::vector<Message>> answers = core_.handleBytes(bad.SerializeAsString());
  ASSERT_TRUE(answers.ok());
  EXPECT_EQ((*answers)[0].start_ack().status(), wire::v1::STATUS_ERROR);
  EXPECT_EQ(core_.counters().malformed, 2u);
}

// docs/protocol.md §7: an agent that timed out resends its Start and keeps the first
// StartAck; the resend must not open another session.
TEST_F(ManagerCoreTest, AnIdenticalStartBeforeAnyDataIsAResendAndGetsTheSameSession) {
  const uint64_t first = open("001", wire::v1::MODE_DELTA, 2);
  EXPECT_EQ(open("001", wire::v1::MODE_DELTA, 2), first);
  EXPECT_EQ(core_.activeSessions(), 1u);
  EXPECT_EQ(core_.counters().sessions_resent, 1u);
  value(first, 0, "a", "A");
  value(first, 1, "b", "B");
  EXPECT_EQ(end(first).end_ack().status(), wire::v1::STATUS_OK);
  EXPECT_EQ(store_.documents({"001", "fim"}, "idx")->size(), 2u);
}

TEST_F(ManagerCoreTest, AnIdenticalStartAfterDataBeganOpensANewSession) {
  const uint64_t first = open("001", wire::v1::MODE_DELTA, 2);
  value(first, 0, "a", "A");
  const uint64_t second = open("001", wire::v1::MODE_DELTA, 2);
  EXPECT_NE(second, first) << "the agent started over: the old session is stale";
  EXPECT_EQ(end(first).end_ack().status(), wire::v1::STATUS_ERROR);
}

TEST_F(ManagerCoreTest, ARefusedStartLeavesTheLiveSessionAlone) {
  const uint64_t live = open("001", wire::v1::MODE_DELTA, 1);
  std::vector<Message> too_big = core_.handle(start("001", wire::v1::MODE_DELTA, 1001));
  EXPECT_EQ(too_big[0].start_ack().status(), wire::v1::STATUS_OFFLINE);
  std::vector<Message> invalid = core_.handle(start("001", wire::v1::MODE_METADATA_DELTA, 1));
  EXPECT_EQ(invalid[0].start_ack().status(), wire::v1::STATUS_ERROR);
  value(live, 0, "a", "A");
  EXPECT_EQ(end(live).end_ack().status(), wire::v1::STATUS_OK);
  EXPECT_EQ(store_.documents({"001", "fim"}, "idx")->size(), 1u);
  EXPECT_EQ(core_.counters().refused_too_large, 1u);
  EXPECT_EQ(core_.counters().refused_invalid, 1u);
}

TEST_F(ManagerCoreTest, AHugeAnnouncedSizeAllocatesNothingUntilDataArrives) {
  ManagerCore::Options o = options();
  o.max_session_size = 10'000'000;
  ManagerCore core(o, &store_);
  std::vector<Message> ack = core.handle(start("001", wire::v1::MODE_DELTA, 10'000'000));
  ASSERT_EQ(ack[0].start_ack().status(), wire::v1::STATUS_OK);
  EXPECT_EQ(core.bufferedBytes(), 0u);
}

TEST_F(ManagerCoreTest, DataBeyondTheMemoryBudgetGoesToDiskAndIsAppliedExactly) {
  ManagerCore::Options o = options();
  o.max_buffered_bytes = 16 * 1024;
  ManagerCore core(o, &store_);
  const uint64_t s = core.handle(start("001", wire::v1::MODE_DELTA, 1000))[0].start_ack().session();
  // Out of order and with duplicates, as retransmissions arrive.
  for (int pass = 0; pass < 2; ++pass) {
    for (uint64_t seq = pass; seq < 1000; seq += 2) {
      Message m;
      wire::v1::DataValue* v = m.mutable_data_value();
      v->set_session(s);
      v->set_seq(seq);
      v->set_id("id" + std::to_string(seq));
      v->set_index("idx");
      v->set_data(std::string(100, 'x') + std::to_string(seq));
      v->set_operation(wire::v1::OPERATION_UPSERT);
      core.handle(m);
      core.handle(m);
      EXPECT_LE(core.bufferedBytes(), o.max_buffered_bytes);
    }
  }
  Message e;
  e.mutable_end()->set_session(s);
  EXPECT_EQ(core.handle(e)[0].end_ack().status(), wire::v1::STATUS_OK);
  EXPECT_EQ(core.counters().sessions_spilled, 1u);
  EXPECT_EQ(core.counters().duplicate_data, 1000u);
  absl::StatusOr<IndexState> docs = store_.documents({"001", "fim"}, "idx");
  ASSERT_EQ(docs->size(), 1000u);
  EXPECT_EQ(docs->at("id999").data, std::string(100, 'x') + "999");
  EXPECT_EQ(core.bufferedBytes(), 0u);
}

TEST_F(ManagerCoreTest, ASpilledSessionAsksForWhatIsMissing) {
  ManagerCore::Options o = options();
  o.max_buffered_bytes = 1024;
  ManagerCore core(o, &store_);
  const uint64_t s = core.handle(start("001", wire::v1::MODE_DELTA, 100))[0].start_ack().session();
  for (uint64_t seq = 0; seq < 100; ++seq) {
    if (seq == 10 || (seq >= 50 && seq <= 59)) continue;
    Message m;
    wire::v1::DataValue* v = m.mutable_data_value();
    v->set_session(s);
    v->set_seq(seq);
    v->set_id("id" + std::to_string(seq));
    v->set_index("idx");
    v->set_data(std::string(100, 'x'));
    v->set_operation(wire::v1::OPERATION_UPSERT);
    core.handle(m);
  }
  Message e;
  e.mutable_end()->set_session(s);
  Message req = core.handle(e)[0];
  ASSERT_TRUE(req.has_req_ret());
  ASSERT_EQ(req.req_ret().ranges_size(), 2);
  EXPECT_EQ(req.req_ret().ranges(0).begin(), 10u);
  EXPECT_EQ(req.req_ret().ranges(0).end(), 10u);
  EXPECT_EQ(req.req_ret().ranges(1).begin(), 50u);
  EXPECT_EQ(req.req_ret().ranges(1).end(), 59u);
}

TEST_F(ManagerCoreTest, OneAgentCannotHoldMoreThanItsShareOfSessions) {
  ManagerCore::Options o = options();
  o.max_sessions = 10;
  o.max_sessions_per_agent = 2;
  ManagerCore core(o, &store_);
  for (const char* module : {"fim", "sca"}) {
    EXPECT_EQ(
        core.handle(start("001", wire::v1::MODE_DELTA, 1, {"idx"}, module))[0].start_ack().status(),
        wire::v1::STATUS_OK);
  }
  EXPECT_EQ(
      core.handle(start("001", wire::v1::MODE_DELTA, 1, {"idx"}, "inv"))[0].start_ack().status(),
      wire::v1::STATUS_OFFLINE);
  EXPECT_EQ(core.handle(start("002", wire::v1::MODE_DELTA, 1))[0].start_ack().status(),
            wire::v1::STATUS_OK);
  EXPECT_EQ(core.counters().refused_agent_limit, 1u);
}

TEST_F(ManagerCoreTest, WithTheTableFullASessionIdleLongEnoughGivesItsPlace) {
  open("001", wire::v1::MODE_DELTA, 1);
  open("002", wire::v1::MODE_DELTA, 1);
  std::vector<Message> refused = core_.handle(start("003", wire::v1::MODE_DELTA, 1));
  EXPECT_EQ(refused[0].start_ack().status(), wire::v1::STATUS_OFFLINE) << "nobody idle yet";
  clock_.advance(absl::Seconds(31));
  std::vector<Message> admitted = core_.handle(start("003", wire::v1::MODE_DELTA, 1));
  EXPECT_EQ(admitted[0].start_ack().status(), wire::v1::STATUS_OK);
  EXPECT_EQ(core_.counters().sessions_evicted, 1u);
  EXPECT_EQ(core_.activeSessions(), 2u);
}

// A store whose disk is full.
class FullStore final : public StateStore {
 public:
  using StateStore::apply;
  absl::Status apply(const ModuleKey&, const std::vector<std::string>&, OpSource&) override {
    return absl::ResourceExhaustedError("database or disk is full");
  }
  absl::StatusOr<IndexState> documents(const ModuleKey&, const std::string&) override {
    return IndexState{};
  }
  absl::StatusOr<std::vector<std::string>> indices(const ModuleKey&) override {
    return std::vector<std::string>{};
  }
  absl::StatusOr<std::string> checksum(const ModuleKey&, const std::string&) override {
    return std::string();
  }
  absl::Status putMetadata(const ModuleKey&, const AgentMetadata&) override {
    return absl::ResourceExhaustedError("database or disk is full");
  }
  absl::StatusOr<AgentMetadata> metadata(const ModuleKey&) override {
    return absl::NotFoundError("none");
  }
  absl::StatusOr<std::vector<ModuleSummary>> modules() override {
    return std::vector<ModuleSummary>{};
  }
};

TEST_F(ManagerCoreTest, AStoreThatCannotApplyIsLoggedCountedAndAnsweredError) {
  FullStore full;
  std::vector<std::string> lines;
  ManagerCore::Options o = options();
  o.log = [&](absl::string_view line) { lines.emplace_back(line); };
  ManagerCore core(o, &full);
  const uint64_t s = core.handle(start("001", wire::v1::MODE_DELTA, 0))[0].start_ack().session();
  Message e;
  e.mutable_end()->set_session(s);
  EXPECT_EQ(core.handle(e)[0].end_ack().status(), wire::v1::STATUS_ERROR);
  EXPECT_EQ(core.counters().apply_failures, 1u);
  EXPECT_EQ(core.counters().last_apply_error, "database or disk is full");
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("disk is full"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("'001'"), std::string::npos) << lines[0];
}

TEST_F(ManagerCoreTest, SessionIdsWithoutASeedComeFromACryptographicSource) {
  ManagerCore::Options o = options();
  o.seed = 0;
  std::set<uint64_t> ids;
  for (int i = 0; i < 2; ++i) {
    ManagerCore core(o, &store_);
    ids.insert(core.handle(start("001", wire::v1::MODE_DELTA, 1))[0].start_ack().session());
  }
  EXPECT_EQ(ids.size(), 2u) << "two managers must not hand out the same id sequence";
}

}  // namespace
}  // namespace asp::manager
