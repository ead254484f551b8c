#include "asp/testing/fake_manager.h"

#include <utility>

namespace asp::testing {

using wire::v1::Message;

FakeManager::FakeManager(SimulatedClock* clock, manager::ManagerCore::Options options)
    : clock_(clock),
      core_(
          [&] {
            options.clock = clock;
            if (options.seed == 0) options.seed = 42;
            if (!options.on_contexts) {
              options.on_contexts = [this](const manager::SessionContexts& c) -> absl::Status {
                std::vector<manager::SessionUpdate::Op> documents;
                manager::SessionUpdate::Op op;
                absl::StatusOr<bool> more;
                while ((more = c.documents->next(&op)).ok() && *more) documents.push_back(op);
                if (!more.ok()) return more.status();
                std::lock_guard<std::mutex> lock(contexts_mu_);
                contexts_[c.key] = std::move(documents);
                return absl::OkStatus();
              };
            }
            return options;
          }(),
          &store_) {}

std::vector<manager::SessionUpdate::Op> FakeManager::lastContexts(const manager::ModuleKey& key) {
  std::lock_guard<std::mutex> lock(contexts_mu_);
  auto it = contexts_.find(key);
  return it == contexts_.end() ? std::vector<manager::SessionUpdate::Op>{} : it->second;
}

void FakeManager::connect(Deliver deliver) {
  std::lock_guard<std::mutex> lock(mu_);
  deliver_ = std::move(deliver);
}

void FakeManager::attach(FakeTransport& transport) {
  transport.setReceiver(
      [this](const std::string& module, const std::string& bytes) { receive(module, bytes); });
}

void FakeManager::setLatency(absl::Duration latency) {
  std::lock_guard<std::mutex> lock(mu_);
  latency_ = latency;
}

void FakeManager::setLatencyJitter(absl::Duration max, uint64_t seed) {
  std::lock_guard<std::mutex> lock(mu_);
  jitter_ = max;
  random_.seed(seed);
}

void FakeManager::setSilent(bool silent) {
  std::lock_guard<std::mutex> lock(mu_);
  silent_ = silent;
}

void FakeManager::dropNextAnswers(int count) {
  std::lock_guard<std::mutex> lock(mu_);
  drop_answers_ = count;
}

void FakeManager::answerStartsWith(wire::v1::Status status, int count) {
  std::lock_guard<std::mutex> lock(mu_);
  start_status_ = status;
  start_overrides_ = count;
}

void FakeManager::answerEndsWith(wire::v1::Status status, int count,
                                 absl::Duration processing_interval) {
  std::lock_guard<std::mutex> lock(mu_);
  end_status_ = status;
  end_overrides_ = count;
  processing_interval_ = processing_interval;
}

void FakeManager::loseSeqsOnce(std::set<uint64_t> seqs) {
  std::lock_guard<std::mutex> lock(mu_);
  lose_once_ = std::move(seqs);
}

void FakeManager::loseDataRandomly(double rate, uint64_t seed) {
  std::lock_guard<std::mutex> lock(mu_);
  loss_rate_ = rate;
  loss_ = std::bernoulli_distribution(rate);
  random_.seed(seed);
}

void FakeManager::setDuplicateAnswers(bool duplicate, absl::Duration copy_delay) {
  std::lock_guard<std::mutex> lock(mu_);
  duplicate_ = duplicate;
  duplicate_delay_ = copy_delay;
}

void FakeManager::corruptSessionOfNextAnswers(int count) {
  std::lock_guard<std::mutex> lock(mu_);
  corrupt_sessions_ = count;
}

void FakeManager::replaceNextAnswer(Message::ContentCase kind,
                                    std::function<std::string(uint64_t session)> make) {
  std::lock_guard<std::mutex> lock(mu_);
  replacements_[kind].push_back(std::move(make));
}

void FakeManager::restart() { core_.forgetSessions(); }

bool FakeManager::loseData(Message* message) {
  auto lost = [this](uint64_t seq) {
    if (lose_once_.erase(seq) > 0 || (loss_rate_ > 0 && loss_(random_))) {
      ++lost_;
      return true;
    }
    return false;
  };
  switch (message->content_case()) {
    case Message::kDataValue:
      return !lost(message->data_value().seq());
    case Message::kDataClean:
      return !lost(message->data_clean().seq());
    case Message::kDataContext:
      return !lost(message->data_context().seq());
    case Message::kDataBatch: {
      auto* values = message->mutable_data_batch()->mutable_values();
      for (int i = values->size() - 1; i >= 0; --i) {
        if (lost(values->Get(i).seq())) values->DeleteSubrange(i, 1);
      }
      return !values->empty();
    }
    default:
      return true;
  }
}

void FakeManager::receive(const std::string& /*module*/, const std::string& bytes) {
  Message message;
  if (!message.ParseFromString(bytes)) return;
  std::vector<Message> answers;
  int processing = 0;
  absl::Duration interval;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ++received_[message.content_case()];
    arrivals_[message.content_case()].push_back(clock_->elapsed());
    if (!loseData(&message)) return;
    auto& replacements = replacements_[message.content_case()];
    if (!replacements.empty()) {
      const std::string bytes =
          replacements.front()(message.has_end() ? message.end().session() : 0);
      replacements.pop_front();
      Deliver deliver = deliver_;
      clock_->scheduleAfter(latency_, [deliver, bytes] {
        if (deliver) deliver(bytes);
      });
      return;
    }
    if (message.has_start() && start_overrides_ > 0) {
      --start_overrides_;
      Message ack;
      ack.mutable_start_ack()->set_status(start_status_);
      ack.mutable_start_ack()->set_session(start_status_ == wire::v1::STATUS_OK ? 1 : 0);
      answers.push_back(ack);
    } else if (message.has_end() && end_overrides_ > 0 &&
               end_status_ != wire::v1::STATUS_PROCESSING) {
      --end_overrides_;
      Message ack;
      ack.mutable_end_ack()->set_status(end_status_);
      ack.mutable_end_ack()->set_session(message.end().session());
      answers.push_back(ack);
    } else if (message.has_end() && end_overrides_ > 0) {
      processing = end_overrides_;
      end_overrides_ = 0;
      interval = processing_interval_;
    }
  }
  if (answers.empty()) {
    absl::StatusOr<std::vector<Message>> handled = core_.handleBytes(message.SerializeAsString());
    if (!handled.ok()) return;
    answers = *std::move(handled);
  }
  for (int i = 0; i < processing; ++i) {
    Message busy;
    busy.mutable_end_ack()->set_status(wire::v1::STATUS_PROCESSING);
    busy.mutable_end_ack()->set_session(message.end().session());
    answer(busy, interval * i);
  }
  for (Message& a : answers) answer(std::move(a), interval * processing);
}

void FakeManager::answer(Message message, absl::Duration extra_delay) {
  Deliver deliver;
  absl::Duration delay;
  absl::Duration copy_delay;
  int copies = 1;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (silent_) return;
    if (drop_answers_ > 0) {
      --drop_answers_;
      return;
    }
    if (corrupt_sessions_ > 0 && message.has_end_ack()) {
      --corrupt_sessions_;
      message.mutable_end_ack()->set_session(message.end_ack().session() + 1);
    } else if (corrupt_sessions_ > 0 && message.has_req_ret()) {
      --corrupt_sessions_;
      message.mutable_req_ret()->set_session(message.req_ret().session() + 1);
    }
    deliver = deliver_;
    delay = latency_ + extra_delay;
    if (jitter_ > absl::ZeroDuration()) {
      delay += absl::Nanoseconds(
          std::uniform_int_distribution<int64_t>(0, absl::ToInt64Nanoseconds(jitter_))(random_));
    }
    copies = duplicate_ ? 2 : 1;
    copy_delay = duplicate_delay_;
  }
  if (!deliver) return;
  const std::string bytes = message.SerializeAsString();
  for (int i = 0; i < copies; ++i) {
    clock_->scheduleAfter(delay + copy_delay * i, [deliver, bytes] { deliver(bytes); });
  }
}

manager::IndexState FakeManager::documents(const manager::ModuleKey& key,
                                           const std::string& index) {
  return store_.documents(key, index).value_or(manager::IndexState{});
}

std::vector<std::string> FakeManager::indices(const manager::ModuleKey& key) {
  return store_.indices(key).value_or(std::vector<std::string>{});
}

std::string FakeManager::checksum(const manager::ModuleKey& key, const std::string& index) {
  return store_.checksum(key, index).value_or("");
}

uint64_t FakeManager::dataLost() {
  std::lock_guard<std::mutex> lock(mu_);
  return lost_;
}

std::vector<absl::Duration> FakeManager::arrivals(Message::ContentCase kind) {
  std::lock_guard<std::mutex> lock(mu_);
  return arrivals_[kind];
}

int FakeManager::received(Message::ContentCase kind) {
  std::lock_guard<std::mutex> lock(mu_);
  return received_[kind];
}

}  // namespace asp::testing
