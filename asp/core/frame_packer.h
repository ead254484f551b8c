// FramePacker: packs data values into DataBatch frames that stay within the frame
// budget (docs/protocol.md §4), tracking the exact encoded size as values are added.
//
// Usage: if (!packer.fits(value)) send(packer.take()); packer.add(value); ...; finally
// send(packer.take()) if !empty(). A single value always fits an empty packer: oversize
// changes are refused when recorded, so this never happens.
//
// Each value is encoded into the frame when added, straight from views of its fields
// (Value: the caller's storage, a row of the queue, is read once), into one buffer that
// lives as long as the packer: a session of a million changes allocates no message
// objects, no field strings and no frame strings per change or per frame. The bytes
// are those protobuf gives for the same DataValue (building_blocks_test.cc).
// Thread-compatible.
#ifndef ASP_CORE_FRAME_PACKER_H_
#define ASP_CORE_FRAME_PACKER_H_

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "asp/proto/wire.pb.h"

namespace asp {

class FramePacker {
 public:
  // `max_message_bytes`: the budget for the serialized Message (the datagram budget
  // minus the header).
  explicit FramePacker(size_t max_message_bytes);

  // A DataValue's fields, as views valid during the call (wire.proto's field numbers).
  struct Value {
    uint64_t seq = 0;
    uint64_t session = 0;
    wire::v1::Operation operation = wire::v1::OPERATION_UNSPECIFIED;
    absl::string_view id;
    absl::string_view index;
    uint64_t version = 0;
    absl::string_view data;
  };
  static Value viewOf(const wire::v1::DataValue& value);

  bool fits(const Value& value) const;
  void add(const Value& value);
  bool fits(const wire::v1::DataValue& value) const { return fits(viewOf(value)); }
  void add(const wire::v1::DataValue& value) { add(viewOf(value)); }
  bool empty() const { return count_ == 0; }
  size_t count() const { return count_; }
  // Size of the Message take() would return.
  size_t messageBytes() const;
  // The serialized Message{data_batch} of everything added (the bytes protobuf would
  // produce); empties the packer. The bytes stay valid until the next add() or take().
  absl::string_view take();

 private:
  // Room before the values for the Message's data_batch tag and length, which are
  // known only when the frame is taken.
  static constexpr size_t kHeadRoom = 1 + 10;

  size_t messageBytesWith(size_t batch_bytes) const;

  const size_t max_message_bytes_;
  std::string buffer_;      // kHeadRoom bytes, then the encoded `values` entries
  size_t batch_bytes_ = 0;  // encoded size of the DataBatch body
  size_t count_ = 0;
};

}  // namespace asp

#endif  // ASP_CORE_FRAME_PACKER_H_
