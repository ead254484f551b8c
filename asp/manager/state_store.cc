#include "asp/manager/state_store.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "asp/base/checksum.h"

namespace asp::manager {

void applyHeld(const std::vector<std::string>& replaced_indices, HeldOpList& ops,
               std::map<std::string, IndexState>* state) {
  for (const std::string& index : replaced_indices) state->erase(index);
  // An index that starts empty (a first sync, a FULL replacement) gets room for all its
  // upserts up front: a million values would otherwise grow (and rehash) its table some
  // twenty times. A non-empty index is left to grow: its upserts are mostly updates.
  absl::flat_hash_map<absl::string_view, size_t> upserts;
  const size_t size = ops.size();
  for (size_t i = 0; i < size;) {
    const std::string& index = ops.op(i).index;
    size_t run = i;
    while (run < size && ops.op(run).kind == SessionUpdate::Op::Kind::kUpsert &&
           ops.op(run).index == index) {
      ++run;
    }
    if (run > i) upserts[index] += run - i;
    i = std::max(run, i + 1);
  }
  for (const auto& [index, count] : upserts) {
    IndexState& documents = (*state)[std::string(index)];
    if (documents.empty()) documents.reserve(count);
  }
  // Values of one session mostly come in runs of the same index: look it up once a run.
  IndexState* current = nullptr;
  const std::string* current_index = nullptr;
  // A million ids land at random places of a table far larger than the cache: asking
  // for the slot of the id a few ops ahead lets those misses overlap.
  constexpr size_t kPrefetchAhead = 8;
  for (size_t i = 0; i < size; ++i) {
    SessionUpdate::Op& op = ops.op(i);
    switch (op.kind) {
      case SessionUpdate::Op::Kind::kUpsert: {
        if (current == nullptr || *current_index != op.index) {
          auto it = state->try_emplace(op.index).first;
          current = &it->second;
          current_index = &it->first;
        }
        if (i + kPrefetchAhead < size) {
          const SessionUpdate::Op& ahead = ops.op(i + kPrefetchAhead);
          if (ahead.index == *current_index) current->prefetch(ahead.id);
        }
        (*current)[std::move(op.id)] = Document{std::move(op.data), op.version};
        break;
      }
      case SessionUpdate::Op::Kind::kDelete: {
        current = nullptr;
        auto it = state->find(op.index);
        if (it == state->end()) break;
        it->second.erase(op.id);
        if (it->second.empty()) state->erase(it);
        break;
      }
      case SessionUpdate::Op::Kind::kClean:
        current = nullptr;
        state->erase(op.index);
        break;
    }
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
  applyHeld(replaced_indices, *held, &modules_[key]);
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
