// docs/protocol.md §7, DataContext: the reference manager accepts a session's context
// documents, keeps them apart from the index state, with the session they came in, and
// hands them (per agent and module) to ManagerCore::Options::on_contexts once that
// session is applied.
#include <string>
#include <vector>

#include "asp/manager/core_test_util.h"
#include "asp/manager/manager_core.h"
#include "asp/testing/simulated_clock.h"
#include "gtest/gtest.h"

namespace asp::manager {
namespace {

using wire::v1::Message;

// What on_contexts received for one session.
struct Delivered {
  ModuleKey key;
  uint64_t session = 0;
  wire::v1::Option option = wire::v1::OPTION_SYNC;
  std::vector<std::string> documents;  // "index/id=data" in the order handed out
};

class SessionContextsTest : public ::testing::Test {
 protected:
  explicit SessionContextsTest(size_t max_buffered_bytes = size_t{1} << 20)
      : core_(options(max_buffered_bytes), &store_) {}

  ManagerCore::Options options(size_t max_buffered_bytes) {
    ManagerCore::Options o;
    o.clock = &clock_;
    o.seed = 1;
    o.max_buffered_bytes = max_buffered_bytes;
    o.on_contexts = [this](const SessionContexts& contexts) -> absl::Status {
      if (!refusal_.ok()) return refusal_;
      Delivered d{contexts.key, contexts.session, contexts.option, {}};
      SessionUpdate::Op op;
      absl::StatusOr<bool> more;
      while ((more = contexts.documents->next(&op)).ok() && *more) {
        d.documents.push_back(op.index + "/" + op.id + "=" + op.data);
      }
      if (!more.ok()) return more.status();
      delivered_.push_back(std::move(d));
      return absl::OkStatus();
    };
    return o;
  }

  uint64_t open(uint64_t size, wire::v1::Option option, const std::string& module = "syscollector",
                wire::v1::Mode mode = wire::v1::MODE_DELTA) {
    Message m;
    m.mutable_start()->set_module(module);
    m.mutable_start()->set_mode(mode);
    m.mutable_start()->set_size(size);
    m.mutable_start()->add_indices("states-packages");
    m.mutable_start()->set_option(option);
    m.mutable_start()->mutable_agent()->set_id("001");
    std::vector<Message> answers = core_.handle(m);
    EXPECT_EQ(answers.size(), 1u);
    return answers.empty() ? 0 : answers[0].start_ack().session();
  }

  void value(uint64_t session, uint64_t seq, const std::string& id) {
    Message m;
    wire::v1::DataValue* v = m.mutable_data_value();
    v->set_session(session);
    v->set_seq(seq);
    v->set_id(id);
    v->set_index("states-packages");
    v->set_data("{\"pkg\":\"" + id + "\"}");
    v->set_operation(wire::v1::OPERATION_UPSERT);
    EXPECT_TRUE(core_.handle(m).empty());
  }

  void context(uint64_t session, uint64_t seq, const std::string& id, const std::string& data) {
    Message m;
    wire::v1::DataContext* c = m.mutable_data_context();
    c->set_session(session);
    c->set_seq(seq);
    c->set_id(id);
    c->set_index("vd-context");
    c->set_data(data);
    EXPECT_TRUE(core_.handle(m).empty());
  }

  Message end(uint64_t session) { return core_testing::endSession(core_, session); }

  testing::SimulatedClock clock_;
  InMemoryStateStore store_;
  ManagerCore core_;
  std::vector<Delivered> delivered_;
  absl::Status refusal_;
};

TEST_F(SessionContextsTest, AppliedSessionHandsItsContextsOverInSeqOrderKeyedByAgentAndModule) {
  const uint64_t s = open(4, wire::v1::OPTION_VD_FIRST);
  // Out of order on the wire: handed over in seq order.
  context(s, 3, "hotfixes", "[]");
  value(s, 0, "openssl");
  value(s, 1, "bash");
  context(s, 2, "os", "linux");
  EXPECT_TRUE(delivered_.empty()) << "nothing before the session is applied";
  ASSERT_EQ(end(s).end_ack().status(), wire::v1::STATUS_OK);
  ASSERT_EQ(delivered_.size(), 1u);
  EXPECT_EQ(delivered_[0].key, (ModuleKey{"001", "syscollector"}));
  EXPECT_EQ(delivered_[0].session, s);
  EXPECT_EQ(delivered_[0].option, wire::v1::OPTION_VD_FIRST);
  EXPECT_EQ(delivered_[0].documents,
            (std::vector<std::string>{"vd-context/os=linux", "vd-context/hotfixes=[]"}));
  EXPECT_EQ(core_.counters().contexts_delivered, 2u);
}

TEST_F(SessionContextsTest, ContextsNeverReachTheIndexState) {
  const uint64_t s = open(2, wire::v1::OPTION_VD_SYNC);
  value(s, 0, "openssl");
  context(s, 1, "os", "linux");
  ASSERT_EQ(end(s).end_ack().status(), wire::v1::STATUS_OK);
  EXPECT_EQ(*store_.indices({"001", "syscollector"}),
            (std::vector<std::string>{"states-packages"}));
  EXPECT_EQ(store_.documents({"001", "syscollector"}, "states-packages")->size(), 1u);
}

TEST_F(SessionContextsTest, AMissingContextSeqIsRequestedAndTheSessionWaitsForIt) {
  const uint64_t s = open(2, wire::v1::OPTION_VD_FIRST);
  value(s, 0, "openssl");
  Message req = end(s);
  ASSERT_TRUE(req.has_req_ret());
  EXPECT_EQ(req.req_ret().ranges(0).begin(), 1u);
  EXPECT_TRUE(delivered_.empty());
  context(s, 1, "os", "linux");
  ASSERT_EQ(end(s).end_ack().status(), wire::v1::STATUS_OK);
  ASSERT_EQ(delivered_.size(), 1u);
  EXPECT_EQ(delivered_[0].documents, (std::vector<std::string>{"vd-context/os=linux"}));
}

TEST_F(SessionContextsTest, ASessionWithoutContextsHandsNothingOver) {
  const uint64_t s = open(1, wire::v1::OPTION_SYNC);
  value(s, 0, "openssl");
  ASSERT_EQ(end(s).end_ack().status(), wire::v1::STATUS_OK);
  EXPECT_TRUE(delivered_.empty());
}

TEST_F(SessionContextsTest, ASessionThatIsNotAppliedHandsNothingOver) {
  const uint64_t s = open(2, wire::v1::OPTION_VD_FIRST);
  context(s, 1, "os", "linux");
  // A new Start of the same agent and module replaces the incomplete session.
  const uint64_t next = open(1, wire::v1::OPTION_VD_FIRST);
  EXPECT_NE(next, s);
  value(next, 0, "openssl");
  ASSERT_EQ(end(next).end_ack().status(), wire::v1::STATUS_OK);
  EXPECT_TRUE(delivered_.empty());
}

TEST_F(SessionContextsTest, ARefusedHandOverAnswersErrorSoTheAgentSendsAgain) {
  refusal_ = absl::UnavailableError("scanner busy");
  const uint64_t s = open(2, wire::v1::OPTION_VD_FIRST);
  value(s, 0, "openssl");
  context(s, 1, "os", "linux");
  EXPECT_EQ(end(s).end_ack().status(), wire::v1::STATUS_ERROR);
  EXPECT_EQ(core_.counters().apply_failures, 1u);
  EXPECT_NE(core_.counters().last_apply_error.find("scanner busy"), std::string::npos);
}

class SpilledSessionContextsTest : public SessionContextsTest {
 protected:
  SpilledSessionContextsTest() : SessionContextsTest(/*max_buffered_bytes=*/512) {}
};

TEST_F(SpilledSessionContextsTest, ContextsOfASessionKeptOnDiskAreHandedOverToo) {
  const uint64_t s = open(12, wire::v1::OPTION_VD_FIRST);
  for (uint64_t seq = 0; seq < 10; ++seq) value(s, seq, "pkg-" + std::to_string(seq));
  context(s, 10, "os", std::string(300, 'o'));
  context(s, 11, "hotfixes", "[]");
  ASSERT_EQ(end(s).end_ack().status(), wire::v1::STATUS_OK);
  EXPECT_GE(core_.counters().sessions_spilled, 1u);
  ASSERT_EQ(delivered_.size(), 1u);
  EXPECT_EQ(delivered_[0].documents,
            (std::vector<std::string>{"vd-context/os=" + std::string(300, 'o'),
                                      "vd-context/hotfixes=[]"}));
  EXPECT_EQ(store_.documents({"001", "syscollector"}, "states-packages")->size(), 10u);
}

}  // namespace
}  // namespace asp::manager
