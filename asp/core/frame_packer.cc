#include "asp/core/frame_packer.h"

#include <cstdint>

#include "asp/proto/limits.h"
#include "google/protobuf/io/coded_stream.h"

namespace asp {
namespace {

using google::protobuf::io::CodedOutputStream;

// Length-delimited fields: Message.data_batch = 4, DataBatch.values = 1.
constexpr uint8_t kDataBatchTag = (4 << 3) | 2;
constexpr uint8_t kValuesTag = (1 << 3) | 2;

// One repeated `values` entry: tag + length + body.
size_t entryBytes(size_t body) { return 1 + wire::varintBytes(body) + body; }

uint8_t* writeVarint(uint64_t value, char* out) {
  return CodedOutputStream::WriteVarint64ToArray(value, reinterpret_cast<uint8_t*>(out));
}

}  // namespace

FramePacker::FramePacker(size_t max_message_bytes)
    : max_message_bytes_(max_message_bytes), buffer_(kHeadRoom, '\0') {}

size_t FramePacker::messageBytesWith(size_t batch_bytes) const {
  return 1 + wire::varintBytes(batch_bytes) + batch_bytes;
}

size_t FramePacker::messageBytes() const { return messageBytesWith(batch_bytes_); }

bool FramePacker::fits(const wire::v1::DataValue& value) const {
  if (count_ == 0) return true;
  return messageBytesWith(batch_bytes_ + entryBytes(value.ByteSizeLong())) <= max_message_bytes_;
}

void FramePacker::add(const wire::v1::DataValue& value) {
  const size_t body = value.ByteSizeLong();
  const size_t entry = entryBytes(body);
  const size_t at = kHeadRoom + batch_bytes_;
  // Shrinks too after a take(): that frame's bytes are no longer promised.
  buffer_.resize(at + entry);
  buffer_[at] = static_cast<char>(kValuesTag);
  value.SerializeWithCachedSizesToArray(writeVarint(body, &buffer_[at + 1]));
  batch_bytes_ += entry;
  ++count_;
}

absl::string_view FramePacker::take() {
  const size_t head = 1 + wire::varintBytes(batch_bytes_);
  char* start = &buffer_[kHeadRoom - head];
  start[0] = static_cast<char>(kDataBatchTag);
  writeVarint(batch_bytes_, start + 1);
  const absl::string_view frame(start, head + batch_bytes_);
  batch_bytes_ = 0;
  count_ = 0;
  return frame;
}

}  // namespace asp
