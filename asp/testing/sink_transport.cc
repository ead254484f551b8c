#include "asp/testing/sink_transport.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "asp/testing/wire_scan.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"

namespace asp::testing {
namespace {

using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;

constexpr uint32_t kBatchTag =
    WireFormatLite::MakeTag(kDataBatchField, WireFormatLite::WIRETYPE_LENGTH_DELIMITED);
constexpr uint32_t kValuesTag =  // DataBatch.values = 1
    WireFormatLite::MakeTag(1, WireFormatLite::WIRETYPE_LENGTH_DELIMITED);
constexpr uint32_t kSeqTag = WireFormatLite::MakeTag(1, WireFormatLite::WIRETYPE_VARINT);
constexpr uint32_t kSessionTag = WireFormatLite::MakeTag(2, WireFormatLite::WIRETYPE_VARINT);

double secondsBetween(SinkTransport::SteadyClock::time_point from,
                      SinkTransport::SteadyClock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// Reads a length prefix and limits `in` to it; false if unreadable.
bool enter(CodedInputStream& in, CodedInputStream::Limit* limit) {
  uint32_t length = 0;
  if (!in.ReadVarint32(&length)) return false;
  *limit = in.PushLimit(static_cast<int>(length));
  return true;
}

}  // namespace

void SinkTransport::reset() {
  tally_ = Tally();
  closed_ = Drain();
  seen_.clear();
}

SinkTransport::Drain SinkTransport::drain() const {
  Drain all = closed_;
  if (tally_.ended) {
    ++all.sessions;
    all.complete_sessions += tally_.complete() ? 1 : 0;
    all.values += tally_.distinct;
  }
  return all;
}

void SinkTransport::expect(uint64_t size) {
  tally_.start_size = size;
  seen_.assign((size + 63) / 64, 0);
}

absl::Status SinkTransport::send(absl::string_view module, absl::string_view message) {
  const SteadyClock::time_point began = SteadyClock::now();
  ++tally_.messages;
  tally_.message_bytes += message.size();
  if (module != module_) {
    ++tally_.malformed;
  } else {
    switch (messageField(message)) {
      case kDataBatchField:
        if (!scanBatch(message)) ++tally_.malformed;
        break;
      case kStartField:
        onStart(message, began);
        break;
      case kEndField:
        onEnd(message, began);
        break;
      default:
        ++tally_.malformed;
    }
  }
  tally_.send_seconds += secondsBetween(began, SteadyClock::now());
  return absl::OkStatus();
}

void SinkTransport::onStart(absl::string_view message, SteadyClock::time_point at) {
  wire::v1::Message start;
  if (!start.ParseFromArray(message.data(), static_cast<int>(message.size())) ||
      !start.has_start()) {
    ++tally_.malformed;
    return;
  }
  if (tally_.ended) {
    // The next session of a drain: close this one's tally, keep the totals of the sink.
    closed_ = drain();
    Tally next;
    next.messages = tally_.messages;
    next.message_bytes = tally_.message_bytes;
    next.send_seconds = tally_.send_seconds;
    tally_ = next;
  }
  tally_.started = true;
  tally_.start_at = at;
  expect(start.start().size());
  wire::v1::Message ack;
  ack.mutable_start_ack()->set_status(wire::v1::STATUS_OK);
  ack.mutable_start_ack()->set_session(session_id_);
  answer(ack);
}

void SinkTransport::onEnd(absl::string_view message, SteadyClock::time_point at) {
  wire::v1::Message end;
  if (!end.ParseFromArray(message.data(), static_cast<int>(message.size())) || !end.has_end()) {
    ++tally_.malformed;
    return;
  }
  if (end.end().session() != session_id_) ++tally_.wrong_session;
  tally_.ended = true;
  tally_.end_at = at;
  wire::v1::Message ack;
  ack.mutable_end_ack()->set_status(wire::v1::STATUS_OK);
  ack.mutable_end_ack()->set_session(session_id_);
  answer(ack);
}

// Message{data_batch = 4 {values = 1 {seq = 1, session = 2, ...}}}: only seq and
// session are read; every other field is skipped.
bool SinkTransport::scanBatch(absl::string_view message) {
  CodedInputStream in(reinterpret_cast<const uint8_t*>(message.data()),
                      static_cast<int>(message.size()));
  CodedInputStream::Limit batch;
  if (in.ReadTag() != kBatchTag || !enter(in, &batch)) return false;
  for (uint32_t tag = in.ReadTag(); tag != 0; tag = in.ReadTag()) {
    if (tag != kValuesTag) {
      if (!WireFormatLite::SkipField(&in, tag)) return false;
      continue;
    }
    CodedInputStream::Limit value;
    if (!enter(in, &value)) return false;
    uint64_t seq = 0, session = 0;
    for (uint32_t field = in.ReadTag(); field != 0; field = in.ReadTag()) {
      bool ok = true;
      if (field == kSeqTag) {
        ok = in.ReadVarint64(&seq);
      } else if (field == kSessionTag) {
        ok = in.ReadVarint64(&session);
      } else {
        ok = WireFormatLite::SkipField(&in, field);
      }
      if (!ok) return false;
    }
    if (!in.ConsumedEntireMessage()) return false;
    in.PopLimit(value);
    onValue(seq, session);
  }
  if (!in.ConsumedEntireMessage()) return false;
  in.PopLimit(batch);
  return in.ReadTag() == 0 && in.ConsumedEntireMessage();
}

void SinkTransport::onValue(uint64_t seq, uint64_t session) {
  ++tally_.values;
  if (session != session_id_) {
    ++tally_.wrong_session;
    return;
  }
  if (seq >= tally_.start_size) {
    ++tally_.out_of_range;
    return;
  }
  uint64_t& word = seen_[seq / 64];
  const uint64_t bit = uint64_t{1} << (seq % 64);
  if ((word & bit) != 0) {
    ++tally_.duplicates;
    return;
  }
  word |= bit;
  ++tally_.distinct;
}

void SinkTransport::answer(const wire::v1::Message& message) {
  const std::string bytes = message.SerializeAsString();
  if (!handler_ || !handler_(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()).ok()) {
    ++tally_.answers_refused;
  }
}

std::string SinkTransport::describe() const {
  const Tally& t = tally_;
  return absl::StrCat("Start ", t.started ? "received" : "missing", " (size ", t.start_size,
                      "), End ", t.ended ? "received" : "missing", "; ", t.values, " values, ",
                      t.distinct, " distinct seqs, ", t.duplicates, " duplicates, ", t.out_of_range,
                      " out of range, ", t.wrong_session, " of another session, ", t.malformed,
                      " malformed messages, ", t.answers_refused, " answers refused");
}

}  // namespace asp::testing
