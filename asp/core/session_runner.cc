#include "asp/core/session_runner.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "asp/core/frame_packer.h"
#include "asp/core/rate_limiter.h"
#include "asp/proto/limits.h"

namespace asp {
namespace {

using wire::v1::Message;

// How much change data to read from the source at a time.
constexpr size_t kPageBytes = 1 << 20;

// How long a repeated ReqRet waits for a fresher answer (see preferFresherAnswer).
constexpr absl::Duration kDuplicateGrace = absl::Seconds(1);

wire::v1::Mode toWire(Mode mode) {
  switch (mode) {
    case Mode::kFull:
      return wire::v1::MODE_FULL;
    case Mode::kDelta:
      return wire::v1::MODE_DELTA;
    case Mode::kCheck:
      return wire::v1::MODE_CHECK;
    case Mode::kMetadataDelta:
      return wire::v1::MODE_METADATA_DELTA;
    case Mode::kMetadataCheck:
      return wire::v1::MODE_METADATA_CHECK;
    case Mode::kGroupDelta:
      return wire::v1::MODE_GROUP_DELTA;
    case Mode::kGroupCheck:
      return wire::v1::MODE_GROUP_CHECK;
  }
  return wire::v1::MODE_UNSPECIFIED;
}

wire::v1::Option toWire(SyncOption option) {
  switch (option) {
    case SyncOption::kVdFirst:
      return wire::v1::OPTION_VD_FIRST;
    case SyncOption::kVdSync:
      return wire::v1::OPTION_VD_SYNC;
    case SyncOption::kVdClean:
      return wire::v1::OPTION_VD_CLEAN;
    case SyncOption::kSync:
      break;
  }
  return wire::v1::OPTION_SYNC;
}

void fillAgent(const AgentInfo& info, wire::v1::AgentInfo* out) {
  out->set_id(info.id);
  out->set_name(info.name);
  out->set_version(info.version);
  out->set_hostname(info.hostname);
  out->set_architecture(info.architecture);
  out->set_os_name(info.os_name);
  out->set_os_platform(info.os_platform);
  out->set_os_type(info.os_type);
  out->set_os_version(info.os_version);
  for (const std::string& group : info.groups) out->add_groups(group);
  out->set_cluster_name(info.cluster_name);
  out->set_cluster_node(info.cluster_node);
}

}  // namespace

// The state of one session; every step returns false once result_ holds the outcome.
class SessionRunner::Run {
 public:
  Run(SessionRunner& runner, const SessionPlan& plan)
      : r_(runner),
        plan_(plan),
        limiter_(runner.options_.max_eps, runner.clock_->now()),
        packer_(runner.options_.frame_budget_bytes - wire::agentHeaderBytes(runner.module_)) {
    result_.changes = plan.size;
  }

  SyncResult execute() {
    const absl::Time began = r_.clock_->now();
    if (start() && sendData() && end()) result_.code = SyncCode::kOk;
    r_.channel_->close();
    result_.duration = r_.clock_->now() - began;
    return std::move(result_);
  }

 private:
  bool fail(SyncCode code, std::string message) {
    result_.code = code;
    result_.message = std::move(message);
    return false;
  }

  void log(LogLevel level, const std::string& message) { logSafely(r_.logger_, level, message); }

  std::string what() const {
    return absl::StrCat(modeName(plan_.mode), " session of module '", r_.module_, "'");
  }

  bool sendBytes(absl::string_view bytes) {
    if (r_.channel_->stopped()) return fail(SyncCode::kStopped, "stopped");
    const absl::Time at = limiter_.reserve(r_.clock_->now());
    if (at > r_.clock_->now() && !r_.channel_->sleepUntil(at)) {
      return fail(SyncCode::kStopped, "stopped");
    }
    if (absl::Status s = sendThroughTransport(bytes); !s.ok()) {
      // stop() interrupts a send blocked in the transport: that is a stop, not a fault.
      if (r_.channel_->stopped()) return fail(SyncCode::kStopped, "stopped");
      return fail(SyncCode::kTransportError, std::string(s.message()));
    }
    ++result_.frames_sent;
    result_.bytes_sent += bytes.size();
    if (r_.counters_.sent) r_.counters_.sent(1, bytes.size());
    return true;
  }

  // The module's transport may throw: that is a failed send, not a broken instance.
  absl::Status sendThroughTransport(absl::string_view bytes) {
    try {
      return r_.transport_->send(r_.module_, bytes);
    } catch (const std::exception& e) {
      return absl::UnavailableError(absl::StrCat("the transport threw: ", e.what()));
    } catch (...) {
      return absl::UnavailableError("the transport threw an exception");
    }
  }

  bool send(const Message& message) { return sendBytes(message.SerializeAsString()); }

  // One request (Start or End) and what has been answered to it so far.
  struct Exchange {
    Exchange(const Message& request, const char* name, SyncCode timeout_code)
        : request(request), name(name), timeout_code(timeout_code) {}

    const Message& request;
    const char* name;  // "Start", "End"
    SyncCode timeout_code;
    int retries_spent = 0;
    // Since the first PROCESSING answer (End only): silences then spend no retry, and
    // the wait is bounded by max_processing_wait from here (docs/protocol.md §5, step 4).
    absl::Time processing_since = absl::InfinitePast();
    int processing_answers = 0;
    std::string last_answer;  // what the manager last answered, for the reason

    bool processing() const { return processing_since != absl::InfinitePast(); }
  };

  std::string silenceReason(const Exchange& x) const {
    const std::string attempts = absl::StrCat(x.retries_spent + 1, " attempts of ",
                                              absl::FormatDuration(r_.options_.timeout));
    if (x.last_answer.empty()) return absl::StrCat("no answer to ", x.name, " after ", attempts);
    return absl::StrCat("the manager answered ", x.last_answer, ", then nothing to ", x.name,
                        " after ", attempts);
  }

  // An ERROR answer names the PROCESSING answers before it (docs/lifecycle.md, decision 20).
  static std::string answeredError(const Exchange& x) {
    std::string reason = absl::StrCat("the manager answered ERROR to ", x.name);
    if (x.processing_answers > 0) {
      absl::StrAppend(&reason, " after ", x.processing_answers, " PROCESSING");
    }
    return reason;
  }

  // Whether max_processing_wait has passed since the first PROCESSING.
  bool processingExpired(const Exchange& x) const {
    return x.processing() &&
           r_.clock_->now() - x.processing_since >= r_.options_.max_processing_wait;
  }

  // The session gives up on a manager that keeps "still applying" too long, answering
  // or not (`silent`: the last wait heard nothing).
  bool failProcessing(const Exchange& x, bool silent) {
    const std::string waited = absl::FormatDuration(r_.clock_->now() - x.processing_since);
    return fail(x.timeout_code,
                absl::StrCat(x.processing_answers, " ", x.name, "s answered PROCESSING",
                             silent ? ", then silence; gave up " : "; still applying ", waited,
                             " after the first (max_processing_wait)"));
  }

  // When the current wait ends: after `timeout`, and never past max_processing_wait.
  absl::Time waitDeadline(const Exchange& x) const {
    const absl::Time deadline = r_.clock_->now() + r_.options_.timeout;
    if (!x.processing()) return deadline;
    return std::min(deadline, x.processing_since + r_.options_.max_processing_wait);
  }

  // A silence after PROCESSING: resend after `timeout`, spending no retry, until
  // max_processing_wait has passed since the first PROCESSING.
  bool awaitProcessing(Exchange& x) {
    if (processingExpired(x)) return failProcessing(x, /*silent=*/true);
    r_.channel_->newRound();
    return send(x.request);
  }

  // Waits for an answer to the request already sent: a timeout is followed by a backoff
  // (during which a late answer still counts) and a resend, up to `retries` resends in
  // all (x.retries_spent carries the count across calls: the caller waits again after a
  // PROCESSING, which neither spends a retry nor gives one back).
  bool await(Exchange& x, Message* answer) {
    const SessionOptions& config = r_.options_;
    while (true) {
      AnswerChannel::Wait w = r_.channel_->wait(waitDeadline(x), answer);
      if (w == AnswerChannel::Wait::kTimeout && x.processing()) {
        if (!awaitProcessing(x)) return false;
        continue;
      }
      if (w == AnswerChannel::Wait::kTimeout) {
        if (x.retries_spent >= config.retries) return fail(x.timeout_code, silenceReason(x));
        const int retry = ++x.retries_spent;
        const absl::Duration pause = r_.backoff_.delay(retry);
        log(LogLevel::kDebug,
            absl::StrCat(what(), ": no answer to ", x.name, " within ",
                         absl::FormatDuration(config.timeout), "; retry ", retry, " of ",
                         config.retries, " in ", absl::FormatDuration(pause)));
        w = r_.channel_->wait(r_.clock_->now() + pause, answer);
        if (w == AnswerChannel::Wait::kTimeout) {
          r_.channel_->newRound();
          if (!send(x.request)) return false;
          continue;
        }
      }
      if (w == AnswerChannel::Wait::kStopped) return fail(SyncCode::kStopped, "stopped");
      if (w == AnswerChannel::Wait::kViolation) {
        std::string reason;
        r_.channel_->takeViolation(&reason);
        return fail(SyncCode::kProtocolError, reason);
      }
      return true;
    }
  }

  Message buildStart() const {
    Message message;
    wire::v1::Start* start = message.mutable_start();
    start->set_module(r_.module_);
    start->set_mode(toWire(plan_.mode));
    start->set_size(plan_.size);
    for (const std::string& index : plan_.indices) start->add_indices(index);
    start->set_option(toWire(plan_.option));
    start->set_global_version(plan_.global_version);
    fillAgent(plan_.agent, start->mutable_agent());
    return message;
  }

  bool start() {
    const Message request = buildStart();
    r_.channel_->open(AnswerChannel::Phase::kAwaitStartAck, 0);
    log(LogLevel::kDebug, absl::StrCat(what(), ": Start, size ", plan_.size));
    Exchange exchange(request, "Start", SyncCode::kStartTimeout);
    if (!send(request)) return false;
    while (true) {
      Message answer;
      if (!await(exchange, &answer)) return false;
      const wire::v1::StartAck& ack = answer.start_ack();
      exchange.last_answer = absl::StrCat("StartAck ", wire::v1::Status_Name(ack.status()));
      switch (ack.status()) {
        case wire::v1::STATUS_OK:
          session_ = ack.session();
          result_.session = session_;
          return true;
        case wire::v1::STATUS_PROCESSING:
          ++exchange.processing_answers;
          continue;  // keep waiting; no retry spent
        case wire::v1::STATUS_OFFLINE:
          return fail(SyncCode::kManagerNotReady, "the manager answered OFFLINE to Start");
        case wire::v1::STATUS_ERROR:
          return fail(SyncCode::kManagerError, answeredError(exchange));
        default:
          return fail(SyncCode::kProtocolError,
                      absl::StrCat("StartAck with status ", wire::v1::Status_Name(ack.status())));
      }
    }
  }

  bool flushFrame(bool retransmission) {
    if (packer_.empty()) return true;
    const uint64_t values = packer_.count();
    if (!sendBytes(packer_.take())) return false;
    countValues(values, retransmission);
    return true;
  }

  void countValues(uint64_t values, bool retransmission) {
    if (retransmission) {
      result_.retransmitted += values;
      if (r_.counters_.retransmitted) r_.counters_.retransmitted(values);
    } else if (r_.counters_.values_sent) {
      r_.counters_.values_sent(values);
    }
  }

  // Packs the values with seqs [first, last] into frames, sending each frame as it
  // fills; the last, partly filled one stays in the packer (flushFrame() sends it), so
  // consecutive ranges share frames.
  bool packValues(uint64_t first, uint64_t last, bool retransmission) {
    uint64_t next = first;
    while (next <= last) {
      // Each change is encoded into the frame straight from the source's storage; when
      // the frame is full the source stops, the frame goes, and the next call resumes
      // with the change that did not fit.
      bool frame_full = false;
      absl::StatusOr<uint64_t> after =
          plan_.values->visitInFlight(next, last, kPageBytes, [&](const SessionChangeView& change) {
            const FramePacker::Value value{
                change.seq,
                session_,
                change.is_delete ? wire::v1::OPERATION_DELETE : wire::v1::OPERATION_UPSERT,
                change.id,
                change.index,
                change.version,
                change.data};
            if (!packer_.fits(value)) {
              frame_full = true;
              return false;
            }
            packer_.add(value);
            return true;
          });
      if (!after.ok()) return fail(SyncCode::kStorageError, std::string(after.status().message()));
      if (frame_full) {
        if (!flushFrame(retransmission)) return false;
      } else if (*after == next) {
        return fail(SyncCode::kStorageError,
                    absl::StrCat("seq ", next, " is missing from the session's changes"));
      }
      if (*after < next) break;  // wrapped past UINT64_MAX
      next = *after;
    }
    return true;
  }

  // The context documents of ranks [first, last], one DataContext message each (a
  // DataBatch carries values only), seq = values + rank.
  bool sendContexts(uint64_t first, uint64_t last, bool retransmission) {
    const uint64_t values = plan_.size - plan_.context_count;
    uint64_t next = first;
    while (next <= last) {
      absl::StatusOr<SessionPage> page = plan_.contexts(next, last, kPageBytes);
      if (!page.ok()) return fail(SyncCode::kStorageError, std::string(page.status().message()));
      if (page->changes.empty()) {
        return fail(SyncCode::kStorageError,
                    absl::StrCat("context document ", next, " is missing from the session"));
      }
      for (SessionChange& document : page->changes) {
        Message message;
        wire::v1::DataContext* context = message.mutable_data_context();
        context->set_seq(values + document.seq);
        context->set_session(session_);
        context->set_id(std::move(document.id));
        context->set_index(std::move(document.index));
        context->set_data(std::move(document.data));
        if (!send(message)) return false;
        countValues(1, retransmission);
      }
      next = page->changes.back().seq + 1;
    }
    return true;
  }

  bool sendCleans(uint64_t first, uint64_t last, bool retransmission) {
    for (uint64_t seq = first; seq <= last && seq < plan_.cleans.size(); ++seq) {
      Message message;
      wire::v1::DataClean* clean = message.mutable_data_clean();
      clean->set_seq(seq);
      clean->set_session(session_);
      clean->set_index(plan_.cleans[seq]);
      if (!send(message)) return false;
      countValues(1, retransmission);
    }
    return true;
  }

  // Sends the data messages with seqs [first, last]; values may stay in the packer.
  bool sendRange(uint64_t first, uint64_t last, bool retransmission) {
    if (plan_.values == nullptr) return sendCleans(first, last, retransmission);
    const uint64_t values = plan_.size - plan_.context_count;
    if (first < values && !packValues(first, std::min(last, values - 1), retransmission)) {
      return false;
    }
    if (last < values) return true;
    // Contexts follow the values in seq order: the values' last frame goes first.
    if (!flushFrame(retransmission)) return false;
    return sendContexts(std::max(first, values) - values, last - values, retransmission);
  }

  bool sendData() {
    if (plan_.size > 0 && !(sendRange(0, plan_.size - 1, false) && flushFrame(false))) return false;
    if (plan_.mode == Mode::kCheck) {
      Message message;
      wire::v1::ChecksumModule* checksum = message.mutable_checksum_module();
      checksum->set_session(session_);
      checksum->set_index(plan_.indices.empty() ? "" : plan_.indices.front());
      checksum->set_checksum(plan_.checksum);
      if (!send(message)) return false;
    }
    return true;
  }

  bool retransmit(const wire::v1::ReqRet& request) {
    std::vector<std::pair<uint64_t, uint64_t>> ranges;
    for (const wire::v1::SeqRange& range : request.ranges()) {
      if (range.end() >= plan_.size) {
        return fail(SyncCode::kProtocolError,
                    absl::StrCat("ReqRet asks for seqs [", range.begin(), ", ", range.end(),
                                 "] but the session has ", plan_.size, " data messages"));
      }
      ranges.emplace_back(range.begin(), range.end());
    }
    // Sorted and merged: each requested seq is sent once, in order.
    std::sort(ranges.begin(), ranges.end());
    std::vector<std::pair<uint64_t, uint64_t>> merged;
    for (const auto& range : ranges) {
      if (!merged.empty() && range.first <= merged.back().second + 1) {
        merged.back().second = std::max(merged.back().second, range.second);
      } else {
        merged.push_back(range);
      }
    }
    for (const auto& [first, last] : merged) {
      if (!sendRange(first, last, true)) return false;
    }
    return flushFrame(true);
  }

  // A ReqRet identical to the one just served is most likely a stale duplicate of it
  // (the manager handled a repeated End, or the answer was duplicated): the answer to
  // the End resent since then follows shortly. Wait a moment for that fresher answer;
  // serve the repeat only if none comes (the retransmission was lost again).
  bool preferFresherAnswer(Message* answer) {
    Message fresher;
    const absl::Duration grace = std::min(r_.options_.timeout, kDuplicateGrace);
    switch (r_.channel_->wait(r_.clock_->now() + grace, &fresher)) {
      case AnswerChannel::Wait::kAnswer:
        *answer = std::move(fresher);
        return true;
      case AnswerChannel::Wait::kTimeout:
        return true;
      case AnswerChannel::Wait::kStopped:
        return fail(SyncCode::kStopped, "stopped");
      case AnswerChannel::Wait::kViolation:
        break;
    }
    std::string reason;
    r_.channel_->takeViolation(&reason);
    return fail(SyncCode::kProtocolError, reason);
  }

  bool end() {
    const SessionOptions& config = r_.options_;
    if (config.sync_end_delay > absl::ZeroDuration() &&
        !r_.channel_->sleepUntil(r_.clock_->now() + config.sync_end_delay)) {
      return fail(SyncCode::kStopped, "stopped");
    }
    Message request;
    request.mutable_end()->set_session(session_);
    r_.channel_->open(AnswerChannel::Phase::kAwaitEnd, session_);
    Exchange exchange(request, "End", SyncCode::kEndTimeout);
    int rounds = 0;
    std::string last_request;  // the ReqRet served last
    if (!send(request)) return false;
    while (true) {
      Message answer;
      if (!await(exchange, &answer)) return false;
      if (answer.has_req_ret() && answer.SerializeAsString() == last_request &&
          !preferFresherAnswer(&answer)) {
        return false;
      }
      if (answer.has_req_ret()) {
        last_request = answer.SerializeAsString();
        if (!serveRetransmission(answer.req_ret(), ++rounds)) return false;
        // The manager is alive and making progress: a fresh budget for the next End.
        exchange.retries_spent = 0;
        exchange.processing_since = absl::InfinitePast();
        exchange.last_answer = "ReqRet";
        r_.channel_->newRound();
        if (!send(request)) return false;
        continue;
      }
      const wire::v1::Status status = answer.end_ack().status();
      exchange.last_answer = absl::StrCat("EndAck ", wire::v1::Status_Name(status));
      switch (status) {
        case wire::v1::STATUS_OK:
          return true;
        case wire::v1::STATUS_PROCESSING:
          // Keep waiting; neither this answer nor a silence after it spends a retry.
          if (!exchange.processing()) exchange.processing_since = r_.clock_->now();
          ++exchange.processing_answers;
          if (processingExpired(exchange)) return failProcessing(exchange, /*silent=*/false);
          continue;
        case wire::v1::STATUS_OFFLINE:
          return fail(SyncCode::kManagerNotReady, "the manager answered OFFLINE to End");
        case wire::v1::STATUS_CHECKSUM_MISMATCH:
          return fail(SyncCode::kChecksumMismatch, "the manager's checksum differs");
        default:
          return fail(SyncCode::kManagerError, answeredError(exchange));
      }
    }
  }

  bool serveRetransmission(const wire::v1::ReqRet& request, int round) {
    if (round > r_.options_.max_retransmission_rounds) {
      return fail(SyncCode::kProtocolError,
                  absl::StrCat("the manager asked for retransmission ", round,
                               " times; giving up after ", r_.options_.max_retransmission_rounds));
    }
    return retransmit(request);
  }

  SessionRunner& r_;
  const SessionPlan& plan_;
  SyncResult result_;
  uint64_t session_ = 0;
  RateLimiter limiter_;
  FramePacker packer_;
};

SessionRunner::SessionRunner(std::string module, const SessionOptions& options,
                             Transport* transport, Clock* clock, AnswerChannel* channel,
                             SessionCounters counters, Logger logger)
    : module_(std::move(module)),
      options_(options),
      transport_(transport),
      clock_(clock),
      channel_(channel),
      counters_(std::move(counters)),
      logger_(std::move(logger)),
      backoff_(options_.backoff) {}

SyncResult SessionRunner::run(const SessionPlan& plan) { return Run(*this, plan).execute(); }

}  // namespace asp
