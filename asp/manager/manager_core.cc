#include "asp/manager/manager_core.h"

#include <utility>

#include "asp/proto/validate.h"

namespace asp::manager {
namespace {

using wire::v1::Message;

Message startAck(wire::v1::Status status, uint64_t session) {
  Message m;
  m.mutable_start_ack()->set_status(status);
  m.mutable_start_ack()->set_session(session);
  return m;
}

Message endAck(wire::v1::Status status, uint64_t session) {
  Message m;
  m.mutable_end_ack()->set_status(status);
  m.mutable_end_ack()->set_session(session);
  return m;
}

bool carriesData(wire::v1::Mode mode) {
  return mode == wire::v1::MODE_FULL || mode == wire::v1::MODE_DELTA;
}

}  // namespace

struct ManagerCore::Session {
  uint64_t id = 0;
  std::string key;
  std::string agent;
  wire::v1::Mode mode = wire::v1::MODE_UNSPECIFIED;
  uint64_t size = 0;
  std::vector<std::string> indices;
  uint64_t global_version = 0;
  // Data by seq; `received` marks which arrived.
  std::vector<SessionUpdate::Op> ops;
  std::vector<bool> received;
  std::vector<bool> is_context;
  uint64_t received_count = 0;
  bool has_checksum = false;
  std::string checksum_index, checksum;
  absl::Time last_activity;
};

ManagerCore::ManagerCore(Options options, StateStore* store)
    : options_(options),
      store_(store),
      clock_(options.clock != nullptr ? options.clock : systemClock()),
      random_(options.seed != 0 ? options.seed : std::random_device{}()) {}

ManagerCore::~ManagerCore() = default;

absl::StatusOr<std::vector<Message>> ManagerCore::handleBytes(absl::string_view bytes) {
  // Parsed on an arena: a DataBatch of hundreds of values costs a few blocks instead of
  // an allocation per value. The strings' buffers are still the heap's, so onValue()
  // moves them out and they outlive the arena.
  google::protobuf::Arena arena;
  Message* message = google::protobuf::Arena::CreateMessage<Message>(&arena);
  if (bytes.size() > static_cast<size_t>(INT32_MAX) ||
      !message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    std::lock_guard<std::mutex> lock(mu_);
    ++counters_.malformed;
    return absl::InvalidArgumentError("message of " + std::to_string(bytes.size()) +
                                      " bytes does not parse");
  }
  if (absl::Status s = wire::validate(*message); !s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    ++counters_.malformed;
    if (message->has_start()) return std::vector<Message>{startAck(wire::v1::STATUS_ERROR, 0)};
    return s;
  }
  return dispatch(message);
}

std::vector<Message> ManagerCore::handle(const Message& message) {
  Message copy = message;
  return dispatch(&copy);
}

std::vector<Message> ManagerCore::handle(Message&& message) { return dispatch(&message); }

std::vector<Message> ManagerCore::dispatch(Message* message) {
  std::lock_guard<std::mutex> lock(mu_);
  switch (message->content_case()) {
    case Message::kStart:
      return {onStart(message->start())};
    case Message::kDataValue: {
      Session* session = nullptr;
      onValue(message->mutable_data_value(), &session);
      return {};
    }
    case Message::kDataBatch: {
      // A batch normally belongs to one session: it is looked up once, not once a value.
      Session* session = nullptr;
      for (wire::v1::DataValue& value : *message->mutable_data_batch()->mutable_values()) {
        onValue(&value, &session);
      }
      return {};
    }
    case Message::kDataContext:
      onContext(message->data_context());
      return {};
    case Message::kDataClean:
      onClean(message->data_clean());
      return {};
    case Message::kChecksumModule:
      onChecksum(message->checksum_module());
      return {};
    case Message::kEnd:
      return {onEnd(message->end())};
    default:
      ++counters_.malformed;  // answers are not for the manager
      return {};
  }
}

Message ManagerCore::onStart(const wire::v1::Start& start) {
  expireIdleLocked();
  if (start.agent().id().empty() || start.mode() == wire::v1::MODE_UNSPECIFIED ||
      (start.mode() == wire::v1::MODE_CHECK && start.indices_size() != 1)) {
    ++counters_.sessions_refused;
    return startAck(wire::v1::STATUS_ERROR, 0);
  }
  const std::string key = start.agent().id() + "/" + start.module();
  if (auto stale = session_by_key_.find(key); stale != session_by_key_.end()) {
    sessions_.erase(stale->second);
    session_by_key_.erase(stale);
  }
  if (sessions_.size() >= options_.max_sessions || start.size() > options_.max_session_size ||
      (!carriesData(start.mode()) && start.size() > 0)) {
    ++counters_.sessions_refused;
    return startAck(start.size() > 0 && !carriesData(start.mode()) ? wire::v1::STATUS_ERROR
                                                                   : wire::v1::STATUS_OFFLINE,
                    0);
  }
  uint64_t id = 0;
  while (id == 0 || sessions_.count(id) != 0 || outcomes_.count(id) != 0) id = random_();
  auto session = std::make_unique<Session>();
  session->id = id;
  session->key = key;
  session->agent = start.agent().id();
  session->mode = start.mode();
  session->size = start.size();
  session->indices.assign(start.indices().begin(), start.indices().end());
  session->global_version = start.global_version();
  session->ops.resize(start.size());
  session->received.assign(start.size(), false);
  session->is_context.assign(start.size(), false);
  session->last_activity = clock_->now();
  sessions_[id] = std::move(session);
  session_by_key_[key] = id;
  ++counters_.sessions_started;
  return startAck(wire::v1::STATUS_OK, id);
}

ManagerCore::Session* ManagerCore::find(uint64_t id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) {
    ++counters_.unknown_session;
    return nullptr;
  }
  it->second->last_activity = clock_->now();
  return it->second.get();
}

// Stores op at seq unless already there; false for an unknown session or bad seq.
static bool store(ManagerCore::Counters& counters, std::vector<SessionUpdate::Op>& ops,
                  std::vector<bool>& received, uint64_t* received_count, uint64_t seq,
                  SessionUpdate::Op op) {
  if (seq >= ops.size()) return false;
  ++counters.data_messages;
  if (received[seq]) {
    ++counters.duplicate_data;
    return true;
  }
  ops[seq] = std::move(op);
  received[seq] = true;
  ++*received_count;
  return true;
}

void ManagerCore::onValue(wire::v1::DataValue* value, Session** session) {
  if (*session == nullptr || (*session)->id != value->session()) *session = find(value->session());
  Session* s = *session;
  if (s == nullptr || !carriesData(s->mode)) return;
  SessionUpdate::Op op;
  op.kind = value->operation() == wire::v1::OPERATION_DELETE ? SessionUpdate::Op::Kind::kDelete
                                                             : SessionUpdate::Op::Kind::kUpsert;
  op.index = std::move(*value->mutable_index());
  op.id = std::move(*value->mutable_id());
  op.data = std::move(*value->mutable_data());
  op.version = value->version();
  store(counters_, s->ops, s->received, &s->received_count, value->seq(), std::move(op));
}

void ManagerCore::onContext(const wire::v1::DataContext& context) {
  Session* s = find(context.session());
  if (s == nullptr || context.seq() >= s->size) return;
  // Reserved in v1: counted for completeness, kept apart from the index state.
  if (store(counters_, s->ops, s->received, &s->received_count, context.seq(), {})) {
    s->is_context[context.seq()] = true;
  }
}

void ManagerCore::onClean(const wire::v1::DataClean& clean) {
  Session* s = find(clean.session());
  if (s == nullptr || !carriesData(s->mode)) return;
  SessionUpdate::Op op;
  op.kind = SessionUpdate::Op::Kind::kClean;
  op.index = clean.index();
  store(counters_, s->ops, s->received, &s->received_count, clean.seq(), std::move(op));
}

void ManagerCore::onChecksum(const wire::v1::ChecksumModule& checksum) {
  Session* s = find(checksum.session());
  if (s == nullptr) return;
  s->has_checksum = true;
  s->checksum_index = checksum.index();
  s->checksum = checksum.checksum();
}

Message ManagerCore::onEnd(const wire::v1::End& end) {
  expireIdleLocked();
  auto it = sessions_.find(end.session());
  if (it == sessions_.end()) {
    auto outcome = outcomes_.find(end.session());
    if (outcome != outcomes_.end()) return outcome->second;
    ++counters_.unknown_session;
    return endAck(wire::v1::STATUS_ERROR, end.session());
  }
  Session& session = *it->second;
  session.last_activity = clock_->now();
  if (session.received_count < session.size) {
    Message m;
    wire::v1::ReqRet* req = m.mutable_req_ret();
    req->set_session(session.id);
    for (uint64_t seq = 0; seq < session.size;) {
      if (session.received[seq]) {
        ++seq;
        continue;
      }
      uint64_t last = seq;
      while (last + 1 < session.size && !session.received[last + 1]) ++last;
      if (static_cast<size_t>(req->ranges_size()) >= options_.max_ranges_per_reqret) break;
      wire::v1::SeqRange* range = req->add_ranges();
      range->set_begin(seq);
      range->set_end(last);
      seq = last + 1;
    }
    ++counters_.reqrets_sent;
    return m;
  }
  Message answer = finish(session);
  remember(session.id, answer);
  session_by_key_.erase(session.key);
  sessions_.erase(it);
  return answer;
}

Message ManagerCore::finish(Session& session) {
  const uint64_t id = session.id;
  if (session.mode == wire::v1::MODE_CHECK) {
    if (!session.has_checksum) return endAck(wire::v1::STATUS_ERROR, id);
    absl::StatusOr<std::string> ours = store_->checksum(session.agent, session.checksum_index);
    if (!ours.ok()) return endAck(wire::v1::STATUS_ERROR, id);
    return endAck(*ours == session.checksum ? wire::v1::STATUS_OK
                                            : wire::v1::STATUS_CHECKSUM_MISMATCH,
                  id);
  }
  if (!carriesData(session.mode)) {
    AgentMetadata metadata{wire::v1::Mode_Name(session.mode), session.indices,
                           session.global_version};
    if (!store_->putMetadata(session.agent, metadata).ok()) {
      return endAck(wire::v1::STATUS_ERROR, id);
    }
    return endAck(wire::v1::STATUS_OK, id);
  }
  SessionUpdate update;
  if (session.mode == wire::v1::MODE_FULL) update.replaced_indices = session.indices;
  // The ops in seq order, context entries left out, without copying a million of them.
  size_t kept = 0;
  for (uint64_t seq = 0; seq < session.size; ++seq) {
    if (session.is_context[seq]) continue;
    if (kept != seq) session.ops[kept] = std::move(session.ops[seq]);
    ++kept;
  }
  session.ops.resize(kept);
  update.ops = std::move(session.ops);
  if (!store_->apply(session.agent, std::move(update)).ok()) return endAck(wire::v1::STATUS_ERROR, id);
  ++counters_.sessions_applied;
  return endAck(wire::v1::STATUS_OK, id);
}

void ManagerCore::remember(uint64_t session, const Message& answer) {
  outcomes_[session] = answer;
  outcome_order_.push_back(session);
  while (outcome_order_.size() > options_.remembered_outcomes) {
    outcomes_.erase(outcome_order_.front());
    outcome_order_.pop_front();
  }
}

void ManagerCore::expireIdleLocked() {
  const absl::Time now = clock_->now();
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (now - it->second->last_activity > options_.idle_timeout) {
      session_by_key_.erase(it->second->key);
      it = sessions_.erase(it);
      ++counters_.sessions_expired;
    } else {
      ++it;
    }
  }
}

void ManagerCore::expireIdle() {
  std::lock_guard<std::mutex> lock(mu_);
  expireIdleLocked();
}

void ManagerCore::forgetSessions() {
  std::lock_guard<std::mutex> lock(mu_);
  sessions_.clear();
  session_by_key_.clear();
  outcomes_.clear();
  outcome_order_.clear();
}

size_t ManagerCore::activeSessions() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sessions_.size();
}

ManagerCore::Counters ManagerCore::counters() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counters_;
}

}  // namespace asp::manager
