#include "asp/manager/manager_core.h"

#include <openssl/rand.h>

#include <random>
#include <utility>

#include "absl/strings/str_cat.h"
#include "asp/proto/validate.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace asp::manager {
namespace {

using wire::v1::Message;

// Freed memory worth handing back to the operating system at once.
constexpr size_t kTrimThresholdBytes = size_t{16} << 20;

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

// Whether `b` announces the same session as `a` (docs/protocol.md §7: a resend).
bool sameStart(const wire::v1::Start& a, const wire::v1::Start& b) {
  return a.module() == b.module() && a.agent().id() == b.agent().id() && a.mode() == b.mode() &&
         a.size() == b.size() && a.option() == b.option() &&
         a.global_version() == b.global_version() &&
         std::equal(a.indices().begin(), a.indices().end(), b.indices().begin(), b.indices().end());
}

}  // namespace

// glibc keeps freed memory for reuse; once sessions have given back enough of it, the
// manager hands it to the operating system, so its footprint follows its load.
void ManagerCore::giveMemoryBack(size_t freed) {
  freed_since_trim_ += freed;
  if (freed_since_trim_ < kTrimThresholdBytes) return;
  freed_since_trim_ = 0;
#if defined(__GLIBC__)
  malloc_trim(0);
#endif
}

struct ManagerCore::Session {
  uint64_t id = 0;
  std::string key;
  wire::v1::Start start;  // as announced, for recognizing a resend (agent info left out)
  std::unique_ptr<SessionData> data;
  bool data_seen = false;  // any data message or checksum arrived
  bool has_checksum = false;
  std::string checksum_index, checksum;
  absl::Time last_activity;

  const std::string& agent() const { return start.agent().id(); }
};

ManagerCore::ManagerCore(Options options, StateStore* store)
    : options_(std::move(options)),
      store_(store),
      clock_(options_.clock != nullptr ? options_.clock : systemClock()),
      predictable_(options_.seed),
      budget_(options_.max_buffered_bytes) {}

ManagerCore::~ManagerCore() {
  std::lock_guard<std::mutex> lock(mu_);
  sessions_.clear();  // before the spill store and the budget they use
}

void ManagerCore::logError(const std::string& line) {
  if (options_.log) options_.log(line);
}

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
    if (message->has_start()) {
      ++counters_.sessions_refused;
      ++counters_.refused_invalid;
      return std::vector<Message>{startAck(wire::v1::STATUS_ERROR, 0)};
    }
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
      onContext(message->mutable_data_context());
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

uint64_t ManagerCore::newSessionId() {
  uint64_t id = 0;
  while (id == 0 || sessions_.count(id) != 0 || outcomes_.count(id) != 0) {
    if (options_.seed != 0) {
      id = predictable_();
    } else if (RAND_bytes(reinterpret_cast<unsigned char*>(&id), sizeof(id)) != 1) {
      id = (uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
    }
  }
  return id;
}

const char* ManagerCore::refusal(const wire::v1::Start& start, const Session* replacing) {
  if (start.size() > options_.max_session_size) {
    ++counters_.refused_too_large;
    return "size";
  }
  const size_t replaced = replacing != nullptr ? 1 : 0;
  auto agent = sessions_by_agent_.find(start.agent().id());
  const size_t held = agent == sessions_by_agent_.end() ? 0 : agent->second;
  if (held - replaced >= options_.max_sessions_per_agent) {
    ++counters_.refused_agent_limit;
    return "agent";
  }
  if (sessions_.size() - replaced >= options_.max_sessions && !evictOneIdle(replacing)) {
    ++counters_.refused_table_full;
    return "table";
  }
  return nullptr;
}

Message ManagerCore::onStart(const wire::v1::Start& start) {
  expireIdleLocked();
  if (start.agent().id().empty() || start.mode() == wire::v1::MODE_UNSPECIFIED ||
      (start.mode() == wire::v1::MODE_CHECK && start.indices_size() != 1) ||
      (!carriesData(start.mode()) && start.size() > 0)) {
    ++counters_.sessions_refused;
    ++counters_.refused_invalid;
    return startAck(wire::v1::STATUS_ERROR, 0);
  }
  const std::string key = start.agent().id() + "/" + start.module();
  Session* live = nullptr;
  if (auto it = session_by_key_.find(key); it != session_by_key_.end()) {
    live = sessions_.at(it->second).get();
  }
  if (live != nullptr && !live->data_seen && sameStart(live->start, start)) {
    // The agent resent its Start (its answer was slow or lost): same session.
    ++counters_.sessions_resent;
    live->last_activity = clock_->now();
    return startAck(wire::v1::STATUS_OK, live->id);
  }
  if (refusal(start, live) != nullptr) {
    ++counters_.sessions_refused;
    return startAck(wire::v1::STATUS_OFFLINE, 0);  // the live session stays
  }
  if (live != nullptr) {
    ++counters_.sessions_replaced;
    erase(live->id);
  }
  auto session = std::make_unique<Session>();
  session->id = newSessionId();
  session->key = key;
  session->start = start;
  session->start.clear_agent();
  session->start.mutable_agent()->set_id(start.agent().id());
  session->data = std::make_unique<SessionData>(session->id, start.size(), &budget_, &spill_);
  session->last_activity = clock_->now();
  const uint64_t id = session->id;
  sessions_[id] = std::move(session);
  session_by_key_[key] = id;
  ++sessions_by_agent_[start.agent().id()];
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

void ManagerCore::record(Session& session, uint64_t seq, SessionUpdate::Op op, bool context) {
  session.data_seen = true;
  if (seq >= session.start.size()) return;
  ++counters_.data_messages;
  const bool was_spilled = session.data->spilled();
  absl::StatusOr<bool> stored = session.data->add(seq, std::move(op), context);
  if (!was_spilled && session.data->spilled()) ++counters_.sessions_spilled;
  if (!stored.ok()) {
    // Not recorded: the End asks for it again.
    logError(absl::StrCat("session ", session.id, " of agent '", session.agent(),
                          "': cannot keep received data on disk: ", stored.status().message()));
    return;
  }
  if (!*stored) ++counters_.duplicate_data;
}

void ManagerCore::onValue(wire::v1::DataValue* value, Session** session) {
  if (*session == nullptr || (*session)->id != value->session()) *session = find(value->session());
  Session* s = *session;
  if (s == nullptr || !carriesData(s->start.mode())) return;
  SessionUpdate::Op op;
  op.kind = value->operation() == wire::v1::OPERATION_DELETE ? SessionUpdate::Op::Kind::kDelete
                                                             : SessionUpdate::Op::Kind::kUpsert;
  op.index = std::move(*value->mutable_index());
  op.id = std::move(*value->mutable_id());
  op.data = std::move(*value->mutable_data());
  op.version = value->version();
  record(*s, value->seq(), std::move(op), false);
}

void ManagerCore::onContext(wire::v1::DataContext* context) {
  Session* s = find(context->session());
  if (s == nullptr || !carriesData(s->start.mode())) return;
  // Kept apart from the index state: it never reaches the store.
  SessionUpdate::Op op;
  op.index = std::move(*context->mutable_index());
  op.id = std::move(*context->mutable_id());
  op.data = std::move(*context->mutable_data());
  record(*s, context->seq(), std::move(op), true);
}

void ManagerCore::onClean(const wire::v1::DataClean& clean) {
  Session* s = find(clean.session());
  if (s == nullptr || !carriesData(s->start.mode())) return;
  SessionUpdate::Op op;
  op.kind = SessionUpdate::Op::Kind::kClean;
  op.index = clean.index();
  record(*s, clean.seq(), std::move(op), false);
}

void ManagerCore::onChecksum(const wire::v1::ChecksumModule& checksum) {
  Session* s = find(checksum.session());
  if (s == nullptr) return;
  s->data_seen = true;
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
  if (!session.data->complete()) return retransmissionRequest(session);
  Message answer = finish(session);
  remember(session.id, answer);
  erase(session.id);
  return answer;
}

Message ManagerCore::retransmissionRequest(Session& session) {
  absl::StatusOr<std::vector<std::pair<uint64_t, uint64_t>>> missing =
      session.data->missing(options_.max_ranges_per_reqret);
  if (!missing.ok()) {
    logError(absl::StrCat("session ", session.id, " of agent '", session.agent(),
                          "': cannot read what it received: ", missing.status().message()));
    return endAck(wire::v1::STATUS_ERROR, session.id);
  }
  Message m;
  wire::v1::ReqRet* req = m.mutable_req_ret();
  req->set_session(session.id);
  for (const auto& [begin, end] : *missing) {
    wire::v1::SeqRange* range = req->add_ranges();
    range->set_begin(begin);
    range->set_end(end);
  }
  ++counters_.reqrets_sent;
  return m;
}

Message ManagerCore::finish(Session& session) {
  const uint64_t id = session.id;
  const std::string& agent = session.agent();
  if (session.start.mode() == wire::v1::MODE_CHECK) {
    if (!session.has_checksum) return endAck(wire::v1::STATUS_ERROR, id);
    absl::StatusOr<std::string> ours =
        store_->checksum({agent, session.start.module()}, session.checksum_index);
    if (!ours.ok()) {
      logError(
          absl::StrCat("CHECK session ", id, " of agent '", agent, "': ", ours.status().message()));
      return endAck(wire::v1::STATUS_ERROR, id);
    }
    return endAck(
        *ours == session.checksum ? wire::v1::STATUS_OK : wire::v1::STATUS_CHECKSUM_MISMATCH, id);
  }
  if (!carriesData(session.start.mode())) {
    AgentMetadata metadata{wire::v1::Mode_Name(session.start.mode()),
                           {session.start.indices().begin(), session.start.indices().end()},
                           session.start.global_version()};
    if (absl::Status s = store_->putMetadata({agent, session.start.module()}, metadata); !s.ok()) {
      ++counters_.apply_failures;
      counters_.last_apply_error = std::string(s.message());
      logError(absl::StrCat("cannot store the metadata of agent '", agent, "': ", s.message()));
      return endAck(wire::v1::STATUS_ERROR, id);
    }
    return endAck(wire::v1::STATUS_OK, id);
  }
  return applyData(session);
}

Message ManagerCore::applyData(Session& session) {
  const uint64_t id = session.id;
  const size_t held = session.data->memoryBytes();
  std::vector<std::string> replaced;
  if (session.start.mode() == wire::v1::MODE_FULL) {
    replaced.assign(session.start.indices().begin(), session.start.indices().end());
  }
  // The contexts first: taking the ops gives the session's memory back.
  absl::StatusOr<std::unique_ptr<OpSource>> contexts =
      session.data->contextsReceived() > 0 && options_.on_contexts
          ? session.data->takeContexts()
          : absl::StatusOr<std::unique_ptr<OpSource>>(nullptr);
  absl::StatusOr<std::unique_ptr<OpSource>> ops = session.data->takeOps();
  const ModuleKey key{session.agent(), session.start.module()};
  absl::Status applied = ops.ok() ? store_->apply(key, replaced, **ops) : ops.status();
  if (ops.ok()) ops->reset();
  if (applied.ok()) {
    applied = contexts.ok() ? deliverContexts(session, contexts->get()) : contexts.status();
  }
  giveMemoryBack(held);
  if (!applied.ok()) {
    ++counters_.apply_failures;
    counters_.last_apply_error = std::string(applied.message());
    logError(absl::StrCat("cannot apply session ", id, " of agent '", session.agent(),
                          "', module '", session.start.module(), "' (answered ERROR; the agent ",
                          "sends it again): ", applied.message()));
    return endAck(wire::v1::STATUS_ERROR, id);
  }
  ++counters_.sessions_applied;
  return endAck(wire::v1::STATUS_OK, id);
}

absl::Status ManagerCore::deliverContexts(const Session& session, OpSource* documents) {
  if (documents == nullptr) return absl::OkStatus();
  absl::Status delivered = options_.on_contexts(SessionContexts{
      {session.agent(), session.start.module()}, session.id, session.start.option(), documents});
  if (!delivered.ok()) {
    return absl::Status(delivered.code(),
                        absl::StrCat("its context documents were refused: ", delivered.message()));
  }
  counters_.contexts_delivered += session.data->contextsReceived();
  return absl::OkStatus();
}

void ManagerCore::remember(uint64_t session, const Message& answer) {
  outcomes_[session] = answer;
  outcome_order_.push_back(session);
  while (outcome_order_.size() > options_.remembered_outcomes) {
    outcomes_.erase(outcome_order_.front());
    outcome_order_.pop_front();
  }
}

void ManagerCore::erase(uint64_t id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  Session& session = *it->second;
  session_by_key_.erase(session.key);
  auto agent = sessions_by_agent_.find(session.agent());
  if (agent != sessions_by_agent_.end() && --agent->second == 0) sessions_by_agent_.erase(agent);
  const size_t held = session.data->memoryBytes();
  sessions_.erase(it);
  giveMemoryBack(held);
}

bool ManagerCore::evictOneIdle(const Session* keep) {
  const absl::Time now = clock_->now();
  const Session* oldest = nullptr;
  for (const auto& [id, session] : sessions_) {
    if (session.get() == keep || now - session->last_activity < options_.evict_after_idle) continue;
    if (oldest == nullptr || session->last_activity < oldest->last_activity) oldest = session.get();
  }
  if (oldest == nullptr) return false;
  erase(oldest->id);
  ++counters_.sessions_evicted;
  return true;
}

void ManagerCore::expireIdleLocked() {
  const absl::Time now = clock_->now();
  std::vector<uint64_t> idle;
  for (const auto& [id, session] : sessions_) {
    if (now - session->last_activity > options_.idle_timeout) idle.push_back(id);
  }
  for (uint64_t id : idle) erase(id);
  counters_.sessions_expired += idle.size();
}

void ManagerCore::expireIdle() {
  std::lock_guard<std::mutex> lock(mu_);
  expireIdleLocked();
}

void ManagerCore::forgetSessions() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<uint64_t> all;
  for (const auto& [id, session] : sessions_) all.push_back(id);
  for (uint64_t id : all) erase(id);
  outcomes_.clear();
  outcome_order_.clear();
}

size_t ManagerCore::activeSessions() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sessions_.size();
}

size_t ManagerCore::bufferedBytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return budget_.used();
}

ManagerCore::Counters ManagerCore::counters() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counters_;
}

}  // namespace asp::manager
