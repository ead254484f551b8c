// FramePacker: packs data values into DataBatch frames that stay within the frame
// budget (docs/protocol.md §4), tracking the exact encoded size as values are added.
//
// Usage: if (!packer.fits(value)) send(packer.take()); packer.add(std::move(value));
// ...; finally send(packer.take()) if !empty(). A single value always fits an empty
// packer: oversize changes are refused when recorded, so this never happens.
// Thread-compatible.
#ifndef ASP_CORE_FRAME_PACKER_H_
#define ASP_CORE_FRAME_PACKER_H_

#include <cstddef>
#include <string>

#include "asp/proto/wire.pb.h"

namespace asp {

class FramePacker {
 public:
  // `max_message_bytes`: the budget for the serialized Message (the datagram budget
  // minus the header).
  explicit FramePacker(size_t max_message_bytes) : max_message_bytes_(max_message_bytes) {}

  bool fits(const wire::v1::DataValue& value) const;
  void add(wire::v1::DataValue value);
  bool empty() const { return count_ == 0; }
  size_t count() const { return count_; }
  // Size of the Message take() would return.
  size_t messageBytes() const;
  // The serialized Message{data_batch} of everything added; empties the packer.
  std::string take();

 private:
  size_t messageBytesWith(size_t batch_bytes) const;

  const size_t max_message_bytes_;
  wire::v1::Message message_;
  size_t batch_bytes_ = 0;  // encoded size of the DataBatch body
  size_t count_ = 0;
};

}  // namespace asp

#endif  // ASP_CORE_FRAME_PACKER_H_
