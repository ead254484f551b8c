// Structural validation of wire messages (docs/protocol.md §3).
//
// proto3 makes every field optional on the wire; the protocol does not. A receiver
// calls validate() on every decoded Message before acting on it. It rejects:
//   - a Message whose oneof `content` is unset;
//   - an enum field that is 0 (`*_UNSPECIFIED`) or a number the schema does not
//     define, except Option, where 0 means SYNC;
//   - empty strings where the protocol needs a name (module, id, index, checksum);
//   - session id 0 where a session id is carried (StartAck only when status is OK);
//   - an empty DataBatch or ReqRet, and a SeqRange whose begin is after its end.
// Checks that need session context (a seq beyond the session size, say) belong to
// the caller. Returns OK or InvalidArgument naming the field and offending value.
// Thread-safe: a pure function.
#ifndef ASP_PROTO_VALIDATE_H_
#define ASP_PROTO_VALIDATE_H_

#include "absl/status/status.h"
#include "asp/proto/wire.pb.h"

namespace asp::wire {

absl::Status validate(const v1::Message& message);

}  // namespace asp::wire

#endif  // ASP_PROTO_VALIDATE_H_
