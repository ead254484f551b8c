// Fuzzes the agent's handling of the manager's answers during a whole DELTA session:
// every time the agent sends Start or End, the next chunk of the input is delivered as
// the answer. A chunk is either raw bytes or, led by a template byte, a well-formed
// StartAck / EndAck / ReqRet with fuzzed fields, so the fuzzer reaches deep into the
// lifecycle. Invariants: no crash or hang, and nothing is lost: after the session the
// queue is empty if it succeeded, else all 5 changes are still pending.
#include <cstdlib>

#include "asp/core/agent_sync_protocol.h"
#include "asp/proto/wire.pb.h"
#include "asp/testing/fake_transport.h"
#include "asp/testing/simulated_clock.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

using asp::wire::v1::Message;

constexpr uint64_t kSession = 7;

// Turns a chunk into the bytes of one answer.
std::string answerFrom(const std::string& chunk) {
  if (chunk.size() < 2) return chunk;
  const uint8_t kind = static_cast<uint8_t>(chunk[0]) % 5;
  const int status = static_cast<uint8_t>(chunk[1]) % 7;
  const uint64_t session =
      chunk.size() > 2 && (chunk[2] & 1) ? static_cast<uint8_t>(chunk[2]) : kSession;
  Message m;
  switch (kind) {
    case 0:
      return chunk.substr(1);  // raw bytes
    case 1:
      m.mutable_start_ack()->set_status(static_cast<asp::wire::v1::Status>(status));
      m.mutable_start_ack()->set_session(session);
      break;
    case 2:
      m.mutable_end_ack()->set_status(static_cast<asp::wire::v1::Status>(status));
      m.mutable_end_ack()->set_session(session);
      break;
    default: {
      m.mutable_req_ret()->set_session(session);
      for (size_t i = 3; i + 1 < chunk.size(); i += 2) {
        asp::wire::v1::SeqRange* r = m.mutable_req_ret()->add_ranges();
        r->set_begin(static_cast<uint8_t>(chunk[i]) % 8);
        r->set_end(static_cast<uint8_t>(chunk[i + 1]) % 8);
      }
      break;
    }
  }
  return m.SerializeAsString();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<std::string> chunks = asp::fuzz::splitMessages(data, size);
  asp::testing::SimulatedClock clock;
  asp::testing::FakeTransport transport;
  asp::AgentSyncProtocol::Options o;
  o.module = "fuzz";
  o.transport = &transport;
  o.clock = &clock;
  o.session.timeout = absl::Seconds(1);
  o.session.retries = 2;
  o.session.sync_end_delay = absl::ZeroDuration();
  o.session.max_retransmission_rounds = 4;
  auto created = asp::AgentSyncProtocol::create(o);
  if (!created.ok()) std::abort();
  asp::AgentSyncProtocol* p = created->get();
  size_t next = 0;
  transport.setReceiver([&](const std::string&, const std::string& bytes) {
    Message sent;
    sent.ParseFromString(bytes);
    if (!sent.has_start() && !sent.has_end()) return;
    if (next >= chunks.size()) return;
    const std::string answer = answerFrom(chunks[next++]);
    clock.scheduleAfter(absl::Milliseconds(1), [p, answer] {
      (void)p->parseResponseBuffer(reinterpret_cast<const uint8_t*>(answer.data()), answer.size());
    });
  });
  for (int i = 0; i < 5; ++i) {
    if (!p->persistDifference("id" + std::to_string(i), asp::Operation::kCreate, "idx", "v", 1)
             .ok())
      std::abort();
  }
  const asp::SyncResult result = p->synchronizeModule(asp::Mode::kDelta);
  uint64_t pending = 0;
  for (const asp::IndexCounts& c : p->queue().counts().value_or(std::vector<asp::IndexCounts>{})) {
    if (c.in_flight != 0) std::abort();  // a session never leaves changes in flight
    pending += c.pending;
  }
  if (result.ok() ? pending != 0 : pending != 5) std::abort();  // nothing lost
  return 0;
}

namespace asp::fuzz {

std::vector<std::string> fuzzSeeds() {
  auto startAck = std::string("\x01\x01\x00", 3);        // StartAck{OK, 7}
  auto endOk = std::string("\x02\x01\x00", 3);           // EndAck{OK, 7}
  auto processing = std::string("\x02\x05\x00", 3);      // EndAck{PROCESSING, 7}
  auto reqret = std::string("\x03\x00\x00\x01\x02", 5);  // ReqRet{7, [1, 2]}
  return {joinMessages({startAck, endOk}),
          joinMessages({startAck, reqret, endOk}),
          joinMessages({startAck, processing, processing, endOk}),
          joinMessages({std::string("\x01\x03\x00", 3)}),
          joinMessages({startAck, std::string("\x02\x04\x00", 3)}),
          joinMessages({std::string("\x00garbage", 8), startAck, endOk})};
}

}  // namespace asp::fuzz
