#include "asp/storage/in_memory_change_set.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/container/flat_hash_set.h"

namespace asp {

absl::Status InMemoryChangeSet::record(const Change& change) {
  if (absl::Status s = validateChange(change, limits_); !s.ok()) return s;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = position_.find(change.id);
  if (it != position_.end()) {
    std::optional<Change>& slot = slots_[it->second].change;
    if (slot && slot->operation != Operation::kDelete) --live_;
    slot = change;
  } else {
    position_.emplace(change.id, slots_.size());
    slots_.push_back(Slot{change});
  }
  if (change.operation != Operation::kDelete) {
    ++live_;
  } else if (!in_session_) {
    // No session can resurrect it: forget the id entirely.
    slots_[position_[change.id]].change.reset();
    position_.erase(change.id);
  }
  return absl::OkStatus();
}

void InMemoryChangeSet::clear() {
  std::lock_guard<std::mutex> lock(mu_);
  slots_.clear();
  position_.clear();
  live_ = 0;
}

size_t InMemoryChangeSet::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return live_;
}

void InMemoryChangeSet::compactLocked() {
  std::vector<Slot> kept;
  kept.reserve(slots_.size());
  position_.clear();
  live_ = 0;
  for (Slot& slot : slots_) {
    if (!slot.change) continue;
    if (slot.change->operation != Operation::kDelete) ++live_;
    position_[slot.change->id] = kept.size();
    kept.push_back(std::move(slot));
  }
  slots_ = std::move(kept);
}

absl::StatusOr<SessionInfo> InMemoryChangeSet::beginSession(const SessionScope& scope) {
  const std::vector<std::string>& only_indices = scope.only_indices;
  std::lock_guard<std::mutex> lock(mu_);
  if (in_session_)
    return absl::FailedPreconditionError("the in-memory set has a session in flight");
  const absl::flat_hash_set<std::string> wanted(only_indices.begin(), only_indices.end());
  std::set<std::string> indices;
  std::vector<Slot> kept;
  in_flight_.clear();
  for (Slot& slot : slots_) {
    if (!slot.change) continue;
    Change& c = *slot.change;
    if (c.operation == Operation::kDelete) continue;  // tombstones are only for aborts
    if (!wanted.empty() && !wanted.contains(c.index)) {
      kept.push_back(std::move(slot));
      continue;
    }
    indices.insert(c.index);
    in_flight_.push_back(SessionChange{in_flight_.size(), std::move(c.id), std::move(c.index),
                                       false, std::move(c.data), c.version});
  }
  slots_ = std::move(kept);
  compactLocked();
  in_session_ = true;
  // No bounds here: the session takes every change of the indices it is about.
  return SessionInfo{in_flight_.size(), std::vector<std::string>(indices.begin(), indices.end()),
                     /*took_all=*/true};
}

absl::StatusOr<SessionPage> InMemoryChangeSet::readInFlight(uint64_t first_seq, uint64_t last_seq,
                                                            size_t max_bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  SessionPage page;
  const uint64_t end = std::min<uint64_t>(last_seq, in_flight_.empty() ? 0 : in_flight_.size() - 1);
  for (uint64_t seq = first_seq; seq < in_flight_.size() && seq <= end; ++seq) {
    if (page.data_bytes >= max_bytes) break;
    const SessionChange& c = in_flight_[seq];
    page.data_bytes += c.id.size() + c.index.size() + c.data.size();
    page.changes.push_back(c);
  }
  return page;
}

absl::Status InMemoryChangeSet::commitSession() {
  std::lock_guard<std::mutex> lock(mu_);
  in_flight_.clear();
  in_session_ = false;
  for (Slot& slot : slots_) {
    if (slot.change && slot.change->operation == Operation::kDelete) slot.change.reset();
  }
  compactLocked();
  return absl::OkStatus();
}

absl::Status InMemoryChangeSet::abortSession() {
  std::lock_guard<std::mutex> lock(mu_);
  // What was in flight was recorded first; anything recorded meanwhile is newer.
  std::vector<Slot> merged;
  merged.reserve(in_flight_.size() + slots_.size());
  for (SessionChange& c : in_flight_) {
    if (position_.contains(c.id)) continue;
    merged.push_back(Slot{Change{std::move(c.id), std::move(c.index), Operation::kCreate,
                                 std::move(c.data), c.version}});
  }
  for (Slot& slot : slots_) {
    if (slot.change && slot.change->operation != Operation::kDelete)
      merged.push_back(std::move(slot));
  }
  in_flight_.clear();
  in_session_ = false;
  slots_ = std::move(merged);
  compactLocked();
  return absl::OkStatus();
}

}  // namespace asp
