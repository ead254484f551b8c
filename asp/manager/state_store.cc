#include "asp/manager/state_store.h"

#include <algorithm>
#include <functional>
#include <system_error>
#include <thread>
#include <utility>

#include "absl/cleanup/cleanup.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "asp/base/checksum.h"

namespace asp::manager {

namespace {

// One index's share of a session: the runs of its ops, in seq order. Ops of different
// indices never touch the same document, so indices can be applied apart.
struct IndexWork {
  IndexState* documents = nullptr;
  std::vector<std::pair<size_t, size_t>> runs;  // [begin, end) of ops
  size_t ops = 0;
  size_t upserts = 0;
};

// The positions of one index's ops, run after run.
class RunCursor {
 public:
  explicit RunCursor(const std::vector<std::pair<size_t, size_t>>& runs)
      : runs_(runs), at_(runs.empty() ? 0 : runs[0].first) {}
  bool done() const { return run_ == runs_.size(); }
  size_t at() const { return at_; }
  void advance() {
    if (++at_ < runs_[run_].second) return;
    if (++run_ < runs_.size()) at_ = runs_[run_].first;
  }

 private:
  const std::vector<std::pair<size_t, size_t>>& runs_;
  size_t run_ = 0;
  size_t at_;
};

// Applies one index's ops in order. A DataClean empties the index; an index left empty
// is removed afterwards by the caller (it alone changes the map of indices).
void applyRuns(HeldOpList& ops, const IndexWork& work) {
  IndexState& documents = *work.documents;
  // A million ids land at random places of a table far larger than the cache: asking
  // for the slot of the id a few ops ahead (of this index) lets those misses overlap.
  constexpr size_t kPrefetchAhead = 8;
  RunCursor ahead(work.runs);
  for (size_t n = 0; n < kPrefetchAhead && !ahead.done(); ++n) ahead.advance();
  for (RunCursor cursor(work.runs); !cursor.done(); cursor.advance()) {
    if (!ahead.done()) {
      documents.prefetch(ops.op(ahead.at()).id);
      ahead.advance();
    }
    SessionUpdate::Op& op = ops.op(cursor.at());
    switch (op.kind) {
      case SessionUpdate::Op::Kind::kUpsert:
        documents[std::move(op.id)] = Document{std::move(op.data), op.version};
        break;
      case SessionUpdate::Op::Kind::kDelete:
        documents.erase(op.id);
        break;
      case SessionUpdate::Op::Kind::kClean:
        documents.clear();
        break;
    }
  }
}

// Deals the indices to `threads` shares of about equal ops, the largest first.
std::vector<std::vector<const IndexWork*>> share(const std::vector<IndexWork>& works,
                                                 size_t threads) {
  std::vector<const IndexWork*> largest_first;
  for (const IndexWork& work : works) largest_first.push_back(&work);
  std::sort(largest_first.begin(), largest_first.end(),
            [](const IndexWork* a, const IndexWork* b) { return a->ops > b->ops; });
  std::vector<std::vector<const IndexWork*>> shares(threads);
  std::vector<size_t> load(threads, 0);
  for (const IndexWork* work : largest_first) {
    const size_t lightest = std::min_element(load.begin(), load.end()) - load.begin();
    shares[lightest].push_back(work);
    load[lightest] += work->ops;
  }
  return shares;
}

}  // namespace

ApplyOptions ApplyOptions::forThisMachine() {
  ApplyOptions options;
  options.threads = std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 4);
  return options;
}

void applyHeld(const std::vector<std::string>& replaced_indices, HeldOpList& ops,
               std::map<std::string, IndexState>* state, const ApplyOptions& options) {
  for (const std::string& index : replaced_indices) state->erase(index);
  // Values of one session mostly come in runs of the same index: each run is looked up
  // once, and filed under its index.
  std::vector<IndexWork> works;
  absl::flat_hash_map<absl::string_view, size_t> work_of;
  const size_t size = ops.size();
  for (size_t i = 0; i < size;) {
    const std::string& index = ops.op(i).index;
    size_t run = i;
    size_t upserts = 0;
    for (; run < size; ++run) {
      const SessionUpdate::Op& op = ops.op(run);
      if (op.index != index) break;
      if (op.kind == SessionUpdate::Op::Kind::kUpsert) ++upserts;
    }
    auto [it, added] = work_of.try_emplace(index, works.size());
    if (added) works.emplace_back();
    IndexWork& work = works[it->second];
    work.runs.emplace_back(i, run);
    work.ops += run - i;
    work.upserts += upserts;
    i = run;
  }
  // Every index the session names is in the map before any op is applied, so that
  // applying them changes no more than each its own table. An index that starts empty
  // (a first sync, a FULL replacement) gets room for all its upserts up front: a million
  // values would otherwise grow (and rehash) its table some twenty times. A non-empty
  // index is left to grow: its upserts are mostly updates.
  for (const auto& [index, at] : work_of) {
    IndexState& documents = (*state)[std::string(index)];
    if (documents.empty()) documents.reserve(works[at].upserts);
    works[at].documents = &documents;
  }
  const size_t threads = std::min(options.threads, works.size());
  if (threads <= 1 || size < options.min_ops_to_share) {
    for (const IndexWork& work : works) applyRuns(ops, work);
  } else {
    // A large session over several indices: its indices are applied side by side (the
    // agent is waiting for the EndAck, so the cores are otherwise idle).
    std::vector<std::vector<const IndexWork*>> shares = share(works, threads);
    auto apply_share = [&ops](const std::vector<const IndexWork*>& mine) {
      for (const IndexWork* work : mine) applyRuns(ops, *work);
    };
    std::vector<std::thread> helpers;
    helpers.reserve(shares.size() - 1);
    // Joined however this scope is left: an exception here (memory) must not leave a
    // helper running on the state, nor a joinable thread destroyed (std::terminate).
    absl::Cleanup join_all = [&helpers] {
      for (std::thread& helper : helpers) helper.join();
    };
    for (size_t t = 1; t < shares.size(); ++t) {
      try {
        helpers.emplace_back(apply_share, std::cref(shares[t]));
      } catch (const std::system_error&) {
        apply_share(shares[t]);  // no thread to be had (the host's limit): this one does it
      }
    }
    apply_share(shares[0]);
  }
  // An index left without documents is not kept (indices() lists those with some).
  for (const auto& [index, at] : work_of) {
    if (works[at].documents->empty()) state->erase(std::string(index));
  }
}

std::string encodeNames(const std::vector<std::string>& names) {
  std::string encoded;
  for (const std::string& name : names) absl::StrAppend(&encoded, name.size(), ":", name);
  return encoded;
}

absl::StatusOr<std::vector<std::string>> decodeNames(absl::string_view encoded) {
  std::vector<std::string> names;
  while (!encoded.empty()) {
    const size_t colon = encoded.find(':');
    size_t length = 0;
    if (colon == absl::string_view::npos || !absl::SimpleAtoi(encoded.substr(0, colon), &length) ||
        length > encoded.size() - colon - 1) {
      return absl::DataLossError(
          absl::StrCat("stored index list is damaged near '", encoded.substr(0, 32), "'"));
    }
    names.emplace_back(encoded.substr(colon + 1, length));
    encoded.remove_prefix(colon + 1 + length);
  }
  return names;
}

std::string indexChecksum(const IndexState& documents) {
  IndexChecksum checksum;
  for (const auto& [id, document] : documents) checksum.addDocument(document.data);
  return checksum.finish();
}

absl::Status InMemoryStateStore::apply(const ModuleKey& key,
                                       const std::vector<std::string>& replaced_indices,
                                       OpSource& ops) {
  // Held in memory, the ops are applied where they are. Any other source is read whole
  // before anything changes: one that fails midway leaves the state alone.
  HeldOpList* held = ops.takeHeld();
  std::vector<SessionUpdate::Op> read;
  VectorOpSource read_ops(&read);
  if (held == nullptr) {
    read.reserve(ops.sizeHint());
    SessionUpdate::Op op;
    while (true) {
      absl::StatusOr<bool> more = ops.next(&op);
      if (!more.ok()) return more.status();
      if (!*more) break;
      read.push_back(std::move(op));
    }
    held = read_ops.takeHeld();
  }
  std::lock_guard<std::mutex> lock(mu_);
  applyHeld(replaced_indices, *held, &modules_[key], apply_options_);
  return absl::OkStatus();
}

absl::StatusOr<IndexState> InMemoryStateStore::documents(const ModuleKey& key,
                                                         const std::string& index) {
  std::lock_guard<std::mutex> lock(mu_);
  auto m = modules_.find(key);
  if (m == modules_.end()) return IndexState{};
  auto i = m->second.find(index);
  return i == m->second.end() ? IndexState{} : i->second;
}

absl::StatusOr<std::vector<std::string>> InMemoryStateStore::indices(const ModuleKey& key) {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> names;
  auto m = modules_.find(key);
  if (m == modules_.end()) return names;
  for (const auto& [index, documents] : m->second) {
    if (!documents.empty()) names.push_back(index);
  }
  return names;
}

absl::StatusOr<std::string> InMemoryStateStore::checksum(const ModuleKey& key,
                                                         const std::string& index) {
  absl::StatusOr<IndexState> docs = documents(key, index);
  if (!docs.ok()) return docs.status();
  return indexChecksum(*docs);
}

absl::Status InMemoryStateStore::putMetadata(const ModuleKey& key, const AgentMetadata& metadata) {
  std::lock_guard<std::mutex> lock(mu_);
  metadata_[key] = metadata;
  return absl::OkStatus();
}

absl::StatusOr<AgentMetadata> InMemoryStateStore::metadata(const ModuleKey& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = metadata_.find(key);
  if (it == metadata_.end()) {
    return absl::NotFoundError("no metadata for agent '" + key.agent + "', module '" + key.module +
                               "'");
  }
  return it->second;
}

absl::StatusOr<std::vector<ModuleSummary>> InMemoryStateStore::modules() {
  std::lock_guard<std::mutex> lock(mu_);
  std::map<ModuleKey, ModuleSummary> found;
  for (const auto& [key, indices] : modules_) {
    for (const auto& [index, documents] : indices) {
      if (documents.empty()) continue;
      ModuleSummary& summary = found[key];
      summary.key = key;
      summary.documents[index] = documents.size();
    }
  }
  for (const auto& [key, metadata] : metadata_) found[key].key = key;
  std::vector<ModuleSummary> sorted;
  for (auto& [key, summary] : found) sorted.push_back(std::move(summary));
  return sorted;
}

}  // namespace asp::manager
