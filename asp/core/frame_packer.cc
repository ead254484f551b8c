#include "asp/core/frame_packer.h"

#include <utility>

#include "asp/proto/limits.h"

namespace asp {
namespace {

// One repeated `values` entry: tag + length + body.
size_t entryBytes(const wire::v1::DataValue& value) {
  const size_t body = value.ByteSizeLong();
  return 1 + wire::varintBytes(body) + body;
}

}  // namespace

size_t FramePacker::messageBytesWith(size_t batch_bytes) const {
  return 1 + wire::varintBytes(batch_bytes) + batch_bytes;
}

size_t FramePacker::messageBytes() const { return messageBytesWith(batch_bytes_); }

bool FramePacker::fits(const wire::v1::DataValue& value) const {
  if (count_ == 0) return true;
  return messageBytesWith(batch_bytes_ + entryBytes(value)) <= max_message_bytes_;
}

void FramePacker::add(wire::v1::DataValue value) {
  batch_bytes_ += entryBytes(value);
  *message_.mutable_data_batch()->add_values() = std::move(value);
  ++count_;
}

std::string FramePacker::take() {
  std::string bytes = message_.SerializeAsString();
  message_.Clear();
  batch_bytes_ = 0;
  count_ = 0;
  return bytes;
}

}  // namespace asp
