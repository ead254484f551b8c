// Fuzzes the reference manager's message handling (ManagerCore) with sequences of
// messages. A chunk is raw bytes or, led by a template byte, a well-formed Start /
// DataValue / DataBatch / DataClean / ChecksumModule / End with fuzzed fields that
// refer to the session the manager last opened, so the fuzzer reaches data, ReqRet,
// apply and CHECK paths. Invariants: no crash; every answer passes validate().
#include <cstdlib>

#include "asp/manager/manager_core.h"
#include "asp/manager/state_store.h"
#include "asp/proto/validate.h"
#include "asp/testing/simulated_clock.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

using asp::wire::v1::Message;

uint8_t at(const std::string& chunk, size_t i) {
  return i < chunk.size() ? static_cast<uint8_t>(chunk[i]) : 0;
}

std::string messageFrom(const std::string& chunk, uint64_t session) {
  Message m;
  switch (at(chunk, 0) % 8) {
    case 0:
      return chunk.substr(chunk.empty() ? 0 : 1);
    case 1: {
      asp::wire::v1::Start* s = m.mutable_start();
      s->set_module(at(chunk, 3) % 2 ? "fim" : "sca");
      s->set_mode(static_cast<asp::wire::v1::Mode>(at(chunk, 1) % 9));
      s->set_size(at(chunk, 2) % 16);
      s->add_indices("idx");
      s->mutable_agent()->set_id(at(chunk, 4) % 3 ? "001" : "");
      break;
    }
    case 2:
    case 3: {
      const int values = at(chunk, 0) % 8 == 2 ? 1 : 1 + at(chunk, 5) % 4;
      for (int k = 0; k < values; ++k) {
        asp::wire::v1::DataValue* v = m.mutable_data_batch()->add_values();
        v->set_seq((at(chunk, 1) + k) % 20);
        v->set_session(at(chunk, 2) % 4 ? session : at(chunk, 2));
        v->set_operation(static_cast<asp::wire::v1::Operation>(at(chunk, 3) % 3));
        v->set_id("id" + std::to_string(at(chunk, 4) % 5));
        v->set_index(at(chunk, 6) % 2 ? "idx" : "other");
        v->set_data(chunk.substr(std::min<size_t>(chunk.size(), 7)));
      }
      break;
    }
    case 4:
      m.mutable_data_clean()->set_session(session);
      m.mutable_data_clean()->set_seq(at(chunk, 1) % 20);
      m.mutable_data_clean()->set_index("idx");
      break;
    case 5:
      m.mutable_checksum_module()->set_session(session);
      m.mutable_checksum_module()->set_index("idx");
      m.mutable_checksum_module()->set_checksum(chunk.substr(1));
      break;
    default:
      m.mutable_end()->set_session(at(chunk, 1) % 4 ? session : at(chunk, 1));
      break;
  }
  return m.SerializeAsString();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  asp::testing::SimulatedClock clock;
  asp::manager::InMemoryStateStore store;
  asp::manager::ManagerCore::Options options;
  options.clock = &clock;
  options.seed = 1;
  options.max_sessions = 4;
  options.max_session_size = 12;
  asp::manager::ManagerCore core(options, &store);
  uint64_t session = 0;
  for (const std::string& chunk : asp::fuzz::splitMessages(data, size)) {
    absl::StatusOr<std::vector<Message>> answers = core.handleBytes(messageFrom(chunk, session));
    if (!answers.ok()) continue;
    for (const Message& answer : *answers) {
      if (!asp::wire::validate(answer).ok()) std::abort();
      if (answer.has_start_ack() && answer.start_ack().session() != 0)
        session = answer.start_ack().session();
    }
    clock.advance(absl::Seconds(at(chunk, 0) % 7 == 6 ? 600 : 1));
    core.expireIdle();
  }
  return 0;
}

namespace asp::fuzz {

std::vector<std::string> fuzzSeeds() {
  const std::string start("\x01\x02\x03\x01\x01", 5);  // Start{fim, DELTA, size 3}
  const std::string value0("\x02\x00\x01\x01\x00\x00\x01", 7);
  const std::string value1("\x02\x01\x01\x02\x01\x00\x01", 7);
  const std::string value2("\x03\x02\x01\x01\x02\x02\x01", 7);
  const std::string end("\x07\x01", 2);
  const std::string check("\x01\x03\x00\x01\x01", 5);  // Start{fim, CHECK, size 0}
  return {
      joinMessages({start, value0, value1, value2, end}),
      joinMessages({start, value0, end, value1, value2, end}),
      joinMessages({check, std::string("\x05") + "da39a3ee5e6b4b0d3255bfef95601890afd80709", end})};
}

}  // namespace asp::fuzz
