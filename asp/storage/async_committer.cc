#include "asp/storage/async_committer.h"

#include <algorithm>
#include <utility>

namespace asp {
namespace {

size_t bytesOf(const std::vector<Change>& changes) {
  size_t bytes = 0;
  for (const Change& c : changes) {
    bytes += sizeof(Change) + c.id.size() + c.index.size() + c.data.size();
  }
  return bytes;
}

}  // namespace

AsyncCommitter::AsyncCommitter(CommitFn commit, Options options)
    : commit_(std::move(commit)),
      options_(options),
      clock_(options.clock != nullptr ? options.clock : systemClock()),
      thread_([this] { run(); }) {}

AsyncCommitter::~AsyncCommitter() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  work_cv_.notify_all();
  thread_.join();
}

absl::Status AsyncCommitter::add(std::vector<Change> changes) {
  if (changes.empty()) return absl::OkStatus();
  Unit unit{std::move(changes), 0};
  unit.bytes = bytesOf(unit.changes);
  std::unique_lock<std::mutex> lock(mu_);
  // An empty buffer always admits one unit, however large, so nothing deadlocks.
  space_cv_.wait(lock, [&] {
    return buffer_.empty() || buffered_bytes_ + unit.bytes <= options_.buffer_bytes;
  });
  buffered_bytes_ += unit.bytes;
  buffer_.push_back(std::move(unit));
  ++added_;
  work_cv_.notify_one();
  return absl::OkStatus();
}

absl::Status AsyncCommitter::flush() {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t target = added_;
  const uint64_t started_before = attempts_started_;
  done_cv_.wait(lock, [&] { return committed_ >= target || failed_attempt_ > started_before; });
  if (committed_ >= target) return absl::OkStatus();
  // A copy with its own storage: the caller keeps it after the committer thread has
  // replaced failure_, and no reference count is shared between the two threads.
  return absl::Status(failure_.code(), failure_.message());
}

size_t AsyncCommitter::bufferedBytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return buffered_bytes_;
}

std::vector<absl::Span<const Change>> AsyncCommitter::nextBatch(size_t* units) const {
  std::vector<absl::Span<const Change>> batch;
  size_t changes = 0;
  *units = 0;
  for (const Unit& unit : buffer_) {
    if (!batch.empty() && changes + unit.changes.size() > options_.max_batch_changes) break;
    batch.emplace_back(unit.changes);
    changes += unit.changes.size();
    ++*units;
  }
  return batch;
}

void AsyncCommitter::run() {
  absl::Duration retry_delay = options_.retry_initial;
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    work_cv_.wait(lock, [&] { return !buffer_.empty() || stopping_; });
    if (buffer_.empty()) return;  // stopping, drained
    // Units are only popped here and deque::push_back keeps references valid, so the
    // batch may be read without the lock while producers keep adding.
    size_t units = 0;
    std::vector<absl::Span<const Change>> batch = nextBatch(&units);
    const uint64_t attempt = ++attempts_started_;
    lock.unlock();
    absl::Status status = commit_(batch);
    lock.lock();
    if (status.ok()) {
      for (size_t i = 0; i < units; ++i) {
        buffered_bytes_ -= buffer_.front().bytes;
        buffer_.pop_front();
      }
      committed_ += units;
      retry_delay = options_.retry_initial;
      space_cv_.notify_all();
      done_cv_.notify_all();
      continue;
    }
    failure_ = status;
    failed_attempt_ = attempt;
    done_cv_.notify_all();
    if (stopping_) return;  // closing: give up on what could not be committed
    const absl::Time deadline = clock_->now() + retry_delay;
    while (!stopping_ && clock_->now() < deadline) clock_->waitUntil(lock, work_cv_, deadline);
    retry_delay = std::min(retry_delay * 2, options_.retry_max);
  }
}

}  // namespace asp
