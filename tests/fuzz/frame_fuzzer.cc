// Fuzzes the MQueue frame decoders and the wire decoder + validate(): any bytes a peer
// could send. Invariants: no crash; a decoded agent frame re-encodes to the same bytes.
#include <cstdlib>

#include "asp/proto/validate.h"
#include "asp/proto/wire.pb.h"
#include "asp/transport/framing.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<asp::framing::AgentFrame> frame = asp::framing::decodeAgentFrame(input);
  if (frame.ok()) {
    absl::StatusOr<std::string> again =
        asp::framing::encodeAgentFrame(frame->module, frame->message);
    if (size <= 65536 && (!again.ok() || *again != input)) std::abort();
    asp::wire::v1::Message message;
    if (message.ParseFromString(std::string(frame->message))) (void)asp::wire::validate(message);
  }
  absl::StatusOr<absl::string_view> answer = asp::framing::decodeManagerFrame("fim", input);
  if (answer.ok()) {
    asp::wire::v1::Message message;
    if (message.ParseFromString(std::string(*answer))) (void)asp::wire::validate(message);
  }
  asp::wire::v1::Message raw;
  if (raw.ParseFromString(input)) (void)asp::wire::validate(raw);
  return 0;
}

namespace asp::fuzz {

std::vector<std::string> fuzzSeeds() {
  wire::v1::Message start;
  start.mutable_start()->set_module("fim");
  start.mutable_start()->set_mode(wire::v1::MODE_DELTA);
  start.mutable_start()->set_size(2);
  start.mutable_start()->mutable_agent()->set_id("001");
  wire::v1::Message batch;
  wire::v1::DataValue* v = batch.mutable_data_batch()->add_values();
  v->set_seq(1);
  v->set_session(9);
  v->set_operation(wire::v1::OPERATION_UPSERT);
  v->set_id("a");
  v->set_index("i");
  v->set_data("{}");
  wire::v1::Message ack;
  ack.mutable_end_ack()->set_status(wire::v1::STATUS_OK);
  ack.mutable_end_ack()->set_session(9);
  return {"s:fim:" + start.SerializeAsString(),
          "s:fim:" + batch.SerializeAsString(),
          "fim_sync " + ack.SerializeAsString(),
          ack.SerializeAsString(),
          "s::",
          "fim_sync "};
}

}  // namespace asp::fuzz
