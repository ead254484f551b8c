// FramePacker: packs data values into DataBatch frames that stay within the frame
// budget (docs/protocol.md §4), tracking the exact encoded size as values are added.
//
// Usage: if (!packer.fits(value)) send(packer.take()); packer.add(value); ...; finally
// send(packer.take()) if !empty(). A single value always fits an empty packer: oversize
// changes are refused when recorded, so this never happens.
//
// Each value is encoded into the frame when added (the caller may reuse the DataValue),
// into one buffer that lives as long as the packer: a session of a million changes
// allocates no message objects and no frame strings per change or per frame.
// Thread-compatible.
#ifndef ASP_CORE_FRAME_PACKER_H_
#define ASP_CORE_FRAME_PACKER_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"
#include "asp/proto/wire.pb.h"

namespace asp {

class FramePacker {
 public:
  // `max_message_bytes`: the budget for the serialized Message (the datagram budget
  // minus the header).
  explicit FramePacker(size_t max_message_bytes);

  bool fits(const wire::v1::DataValue& value) const;
  void add(const wire::v1::DataValue& value);
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
