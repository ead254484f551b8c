#include "asp/core/answer_channel.h"

#include <utility>

namespace asp {

using wire::v1::Message;

void AnswerChannel::open(Phase phase, uint64_t session) {
  std::lock_guard<std::mutex> lock(mu_);
  phase_ = phase;
  session_ = session;
  answers_.clear();
  accepted_bytes_.clear();
  violation_.clear();
  has_violation_ = false;
}

void AnswerChannel::newRound() {
  std::lock_guard<std::mutex> lock(mu_);
  accepted_bytes_.clear();
}

bool AnswerChannel::expectsLocked(const Message& answer) const {
  switch (answer.content_case()) {
    case Message::kStartAck:
      return phase_ == Phase::kAwaitStartAck;
    case Message::kEndAck:
      return phase_ == Phase::kAwaitEnd && answer.end_ack().session() == session_;
    case Message::kReqRet:
      return phase_ == Phase::kAwaitEnd && answer.req_ret().session() == session_;
    default:
      return false;
  }
}

bool AnswerChannel::expects(const Message& answer) {
  std::lock_guard<std::mutex> lock(mu_);
  return expectsLocked(answer);
}

AnswerChannel::Delivery AnswerChannel::deliver(Message answer, const std::string& bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!expectsLocked(answer)) return Delivery::kIgnored;
  // PROCESSING is a heartbeat: the manager may legitimately repeat it.
  const bool processing =
      (answer.has_start_ack() && answer.start_ack().status() == wire::v1::STATUS_PROCESSING) ||
      (answer.has_end_ack() && answer.end_ack().status() == wire::v1::STATUS_PROCESSING);
  if (!processing && !accepted_bytes_.insert(bytes).second) return Delivery::kDuplicate;
  // A decisive StartAck settles the start phase: another one (for a resent Start) is
  // then ignored. PROCESSING only says "keep waiting".
  if (answer.has_start_ack() && answer.start_ack().status() != wire::v1::STATUS_PROCESSING) {
    phase_ = Phase::kData;
  }
  answers_.push_back(std::move(answer));
  cv_.notify_all();
  return Delivery::kAccepted;
}

bool AnswerChannel::deliverViolation(const Message& answer, std::string reason) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!expectsLocked(answer)) return false;
  violation_ = std::move(reason);
  has_violation_ = true;
  cv_.notify_all();
  return true;
}

bool AnswerChannel::takeViolation(std::string* reason) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!has_violation_) return false;
  *reason = std::move(violation_);
  has_violation_ = false;
  return true;
}

AnswerChannel::Wait AnswerChannel::wait(absl::Time deadline, Message* answer) {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (stopped_) return Wait::kStopped;
    if (!answers_.empty()) {
      *answer = std::move(answers_.front());
      answers_.pop_front();
      return Wait::kAnswer;
    }
    if (has_violation_) return Wait::kViolation;
    if (clock_->now() >= deadline) return Wait::kTimeout;
    clock_->waitUntil(lock, cv_, deadline);
  }
}

bool AnswerChannel::sleepUntil(absl::Time deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopped_ && clock_->now() < deadline) clock_->waitUntil(lock, cv_, deadline);
  return !stopped_;
}

void AnswerChannel::stop() {
  std::lock_guard<std::mutex> lock(mu_);
  stopped_ = true;
  cv_.notify_all();
}

void AnswerChannel::reset() {
  std::lock_guard<std::mutex> lock(mu_);
  stopped_ = false;
}

bool AnswerChannel::stopped() {
  std::lock_guard<std::mutex> lock(mu_);
  return stopped_;
}

}  // namespace asp
