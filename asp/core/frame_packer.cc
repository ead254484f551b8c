#include "asp/core/frame_packer.h"

#include <cstdint>
#include <cstring>

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

// DataValue's fields (wire.proto): tag = field number << 3 | wire type (0 varint, 2 bytes).
constexpr uint8_t kSeqTag = (1 << 3) | 0;
constexpr uint8_t kSessionTag = (2 << 3) | 0;
constexpr uint8_t kOperationTag = (3 << 3) | 0;
constexpr uint8_t kIdTag = (4 << 3) | 2;
constexpr uint8_t kIndexTag = (5 << 3) | 2;
constexpr uint8_t kVersionTag = (6 << 3) | 0;
constexpr uint8_t kDataTag = (7 << 3) | 2;

// An enum is encoded as its int32 value sign-extended to 64 bits, as protobuf does.
uint64_t enumBits(wire::v1::Operation operation) {
  return static_cast<uint64_t>(static_cast<int64_t>(operation));
}

// As proto3 encodes: fields in number order, those holding their default left out.
size_t varintField(uint64_t value) { return value == 0 ? 0 : 1 + wire::varintBytes(value); }
size_t bytesField(absl::string_view bytes) {
  return bytes.empty() ? 0 : 1 + wire::varintBytes(bytes.size()) + bytes.size();
}

size_t bodyBytes(const FramePacker::Value& v) {
  return varintField(v.seq) + varintField(v.session) + varintField(enumBits(v.operation)) +
         bytesField(v.id) + bytesField(v.index) + varintField(v.version) + bytesField(v.data);
}

char* putVarintField(uint8_t tag, uint64_t value, char* out) {
  if (value == 0) return out;
  *out = static_cast<char>(tag);
  return reinterpret_cast<char*>(writeVarint(value, out + 1));
}

char* putBytesField(uint8_t tag, absl::string_view bytes, char* out) {
  if (bytes.empty()) return out;
  *out = static_cast<char>(tag);
  out = reinterpret_cast<char*>(writeVarint(bytes.size(), out + 1));
  std::memcpy(out, bytes.data(), bytes.size());
  return out + bytes.size();
}

char* putBody(const FramePacker::Value& v, char* out) {
  out = putVarintField(kSeqTag, v.seq, out);
  out = putVarintField(kSessionTag, v.session, out);
  out = putVarintField(kOperationTag, enumBits(v.operation), out);
  out = putBytesField(kIdTag, v.id, out);
  out = putBytesField(kIndexTag, v.index, out);
  out = putVarintField(kVersionTag, v.version, out);
  return putBytesField(kDataTag, v.data, out);
}

}  // namespace

FramePacker::Value FramePacker::viewOf(const wire::v1::DataValue& value) {
  return Value{value.seq(),   value.session(), value.operation(), value.id(),
               value.index(), value.version(), value.data()};
}

FramePacker::FramePacker(size_t max_message_bytes)
    : max_message_bytes_(max_message_bytes), buffer_(kHeadRoom, '\0') {}

size_t FramePacker::messageBytesWith(size_t batch_bytes) const {
  return 1 + wire::varintBytes(batch_bytes) + batch_bytes;
}

size_t FramePacker::messageBytes() const { return messageBytesWith(batch_bytes_); }

bool FramePacker::fits(const Value& value) const {
  if (count_ == 0) return true;
  return messageBytesWith(batch_bytes_ + entryBytes(bodyBytes(value))) <= max_message_bytes_;
}

void FramePacker::add(const Value& value) {
  const size_t body = bodyBytes(value);
  const size_t entry = entryBytes(body);
  const size_t at = kHeadRoom + batch_bytes_;
  // Shrinks too after a take(): that frame's bytes are no longer promised.
  buffer_.resize(at + entry);
  buffer_[at] = static_cast<char>(kValuesTag);
  putBody(value, reinterpret_cast<char*>(writeVarint(body, &buffer_[at + 1])));
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
