#include "asp/storage/group_commit.h"

namespace asp {

struct GroupCommit::Writer {
  absl::Span<const Change> changes;
  absl::Status status;
  bool done = false;
  // Each writer is woken alone (done, or now the leader): waking all of them on one
  // condition variable made every commit a stampede for mu_.
  std::condition_variable cv;
};

GroupCommit::GroupCommit(Options options, Transaction transaction)
    : options_(options),
      clock_(options.clock != nullptr ? options.clock : systemClock()),
      transaction_(std::move(transaction)) {}

absl::Status GroupCommit::commit(absl::Span<const Change> changes) {
  Writer self;
  self.changes = changes;
  std::unique_lock<std::mutex> lock(mu_);
  writers_.push_back(&self);
  if (leader_waiting_) leader_cv_.notify_one();
  self.cv.wait(lock, [&] { return self.done || writers_.front() == &self; });
  if (self.done) return self.status;
  lock.unlock();
  return lead(self);
}

size_t GroupCommit::inLine() {
  std::lock_guard<std::mutex> lock(mu_);
  return writers_.size();
}

absl::Status GroupCommit::lead(Writer& self) {
  Group group;
  group.waited = !options_.wait_for_writers;
  const absl::Time started = clock_->now();
  absl::Status status =
      transaction_([this, &group](Parts* parts) { return buildGroup(group, parts); });
  const absl::Duration took = clock_->now() - started;
  std::lock_guard<std::mutex> lock(mu_);
  if (group.writers == 0) {
    // The transaction failed before it asked for anything (BEGIN failed, say): the
    // leader still leaves the line, with that error.
    group.writers = 1;
    if (status.ok()) status = absl::InternalError("the transaction took no changes");
  }
  if (status.ok()) {
    last_group_ = group.writers;
    // The commit's own duration: counting the wait would let the bound feed on itself.
    last_commit_ = took - group.waiting;
  }
  finishGroup(group, status, &self);
  return status;
}

bool GroupCommit::buildGroup(Group& group, Parts* parts) {
  std::unique_lock<std::mutex> lock(mu_);
  const size_t before = group.writers;
  takeQueued(group, parts);
  if (group.writers == before && shouldWaitForWriters(group)) {
    waitForWriters(group, lock);
    takeQueued(group, parts);
  }
  return group.writers > before;
}

void GroupCommit::takeQueued(Group& group, Parts* parts) {
  for (size_t i = group.writers; i < writers_.size(); ++i) {
    const absl::Span<const Change> more = writers_[i]->changes;
    if (group.writers > 0 && group.changes + more.size() > options_.max_group_changes) return;
    parts->push_back(more);
    group.changes += more.size();
    ++group.writers;
  }
}

bool GroupCommit::shouldWaitForWriters(const Group& group) const {
  return !group.waited && group.writers < last_group_ && group.changes < options_.max_group_changes;
}

void GroupCommit::waitForWriters(Group& group, std::unique_lock<std::mutex>& lock) {
  group.waited = true;
  leader_waiting_ = true;
  const absl::Time started = clock_->now();
  const absl::Time deadline = started + 2 * last_commit_;
  while (writers_.size() < last_group_ && clock_->now() < deadline) {
    clock_->waitUntil(lock, leader_cv_, deadline);
  }
  group.waiting = clock_->now() - started;
  leader_waiting_ = false;
}

void GroupCommit::finishGroup(const Group& group, const absl::Status& status,
                              const Writer* leader) {
  // Notified under the lock: a writer's cv lives on its stack, and a writer cannot
  // return before it has the lock again.
  for (size_t i = 0; i < group.writers; ++i) {
    Writer* writer = writers_.front();
    writers_.pop_front();
    writer->status = status;
    writer->done = true;
    if (writer != leader) writer->cv.notify_one();
  }
  if (!writers_.empty()) writers_.front()->cv.notify_one();  // the next leader
}

}  // namespace asp
