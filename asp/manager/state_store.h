// StateStore: the manager's copy of each agent's state, per (agent, module, index)
// (docs/protocol.md §7): a FULL or a DataClean from one module never touches another module's
// documents, even when both use the same index name.
//
// A confirmed session is applied with apply(), atomically: either all of its updates
// are visible or none. InMemoryStateStore keeps everything in memory (tests, benches);
// the reference manager also has an SQLite store that survives its restarts.
//
// Thread-safety: implementations are thread-safe.
#ifndef ASP_MANAGER_STATE_STORE_H_
#define ASP_MANAGER_STATE_STORE_H_

#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace asp::manager {

struct Document {
  std::string data;
  uint64_t version = 0;
  bool operator==(const Document& other) const {
    return data == other.data && version == other.version;
  }
};

// Whose state: one module of one agent. Every store keeps documents and metadata per
// key; two modules of one agent are as separate as two agents.
struct ModuleKey {
  std::string agent;
  std::string module;
  bool operator<(const ModuleKey& other) const {
    return std::tie(agent, module) < std::tie(other.agent, other.module);
  }
  bool operator==(const ModuleKey& other) const {
    return agent == other.agent && module == other.module;
  }
};

// Documents of one index by id (unordered: a manager holds millions).
using IndexState = absl::flat_hash_map<std::string, Document>;

// What one confirmed session changes, held in memory (tests, small sessions).
struct SessionUpdate {
  struct Op {
    enum class Kind { kUpsert, kDelete, kClean };
    Kind kind = Kind::kUpsert;
    std::string index;
    std::string id;
    std::string data;
    uint64_t version = 0;
  };
  // FULL: these indices are emptied first, then the ops (all upserts) applied.
  std::vector<std::string> replaced_indices;
  std::vector<Op> ops;  // in seq order
};

// Ops already in memory, in seq order, read in place: a store may look at them more than
// once (to make room before it applies them, say) and move their strings out. Reading
// them cannot fail.
class HeldOpList {
 public:
  virtual ~HeldOpList() = default;
  virtual size_t size() const = 0;
  virtual SessionUpdate::Op& op(size_t i) = 0;
};

// A confirmed session's ops in seq order, handed out one at a time: a session may be
// larger than the manager's memory (it keeps what exceeds its budget on disk), so a
// store applies it without holding it whole.
class OpSource {
 public:
  virtual ~OpSource() = default;
  // Moves the next op into *op; false once every op was handed out.
  virtual absl::StatusOr<bool> next(SessionUpdate::Op* op) = 0;
  // At least as many ops as next() will still hand out, when known cheaply (a store
  // reserves room with it); 0 when not known.
  virtual size_t sizeHint() const { return 0; }
  // When the ops still to hand out are all in memory (so handing them out cannot fail):
  // hands them over at once, to be read in place for as long as the source lives;
  // next() hands out nothing afterwards. Null for a source that reads them from
  // elsewhere (a disk, a server): a store that must apply all or none reads such a
  // source whole before it changes anything.
  virtual HeldOpList* takeHeld() { return nullptr; }
};

// An OpSource over ops already in memory: handed out one at a time (each moved out), or
// all at once in place (takeHeld). `Self` says where they are, with count() (every op,
// handed out or not) and at(i); called directly, not through a second virtual call, as
// a store reads each op a few times.
template <typename Self>
class HeldOpSource : public OpSource, private HeldOpList {
 public:
  absl::StatusOr<bool> next(SessionUpdate::Op* op) final {
    if (next_ >= self().count()) return false;
    *op = std::move(self().at(next_++));
    return true;
  }
  size_t sizeHint() const final { return self().count() - next_; }
  HeldOpList* takeHeld() final {
    held_from_ = next_;
    next_ = self().count();
    return this;
  }

 private:
  size_t size() const final { return self().count() - held_from_; }
  SessionUpdate::Op& op(size_t i) final { return self().at(held_from_ + i); }
  Self& self() { return static_cast<Self&>(*this); }
  const Self& self() const { return static_cast<const Self&>(*this); }

  size_t next_ = 0;
  size_t held_from_ = 0;
};

// Ops in a vector the caller owns.
class VectorOpSource final : public HeldOpSource<VectorOpSource> {
 public:
  explicit VectorOpSource(std::vector<SessionUpdate::Op>* ops) : ops_(ops) {}
  size_t count() const { return ops_->size(); }
  SessionUpdate::Op& at(size_t i) { return (*ops_)[i]; }

 private:
  std::vector<SessionUpdate::Op>* ops_;
};

// One module of one agent as a store holds it, for operators (the manager's status page,
// `aspctl manager agents`).
struct ModuleSummary {
  ModuleKey key;
  // When its last data session was applied, in seconds since the Unix epoch by the
  // store's clock (the database server's); 0 when the store does not know.
  int64_t last_applied_unix = 0;
  // Documents per index, for the indices that hold any.
  std::map<std::string, uint64_t> documents;
};

// The latest metadata or groups session of an agent's module.
struct AgentMetadata {
  std::string mode;
  std::vector<std::string> indices;
  uint64_t global_version = 0;
};

class StateStore {
 public:
  virtual ~StateStore() = default;
  // Applies one confirmed session of `key`'s module atomically: `replaced_indices` (FULL)
  // are emptied first, then `ops` in order. Either all of it is visible afterwards or none.
  virtual absl::Status apply(const ModuleKey& key, const std::vector<std::string>& replaced_indices,
                             OpSource& ops) = 0;
  // The same for an update in memory; a store may move its strings into place.
  absl::Status apply(const ModuleKey& key, SessionUpdate update) {
    VectorOpSource ops(&update.ops);
    return apply(key, update.replaced_indices, ops);
  }
  virtual absl::StatusOr<IndexState> documents(const ModuleKey& key, const std::string& index) = 0;
  // Indices of `key`'s module that hold at least one document, sorted (bytewise).
  virtual absl::StatusOr<std::vector<std::string>> indices(const ModuleKey& key) = 0;
  // docs/protocol.md §5.1 checksum of `key`'s copy of `index`.
  virtual absl::StatusOr<std::string> checksum(const ModuleKey& key, const std::string& index) = 0;
  virtual absl::Status putMetadata(const ModuleKey& key, const AgentMetadata& metadata) = 0;
  // NotFound when `key` never sent a metadata or groups session.
  virtual absl::StatusOr<AgentMetadata> metadata(const ModuleKey& key) = 0;
  // Every module the store holds anything of (documents, metadata or a session applied),
  // sorted by key. Reads every module's counts: meant for operators, not for sessions.
  virtual absl::StatusOr<std::vector<ModuleSummary>> modules() = 0;
};

// How applyHeld uses the cores: a session of at least `min_ops_to_share` ops over
// several indices is applied by up to `threads` threads, each index by one of them.
struct ApplyOptions {
  size_t threads = 1;
  size_t min_ops_to_share = 65536;
  // The machine's cores, at most 4 (the default of InMemoryStateStore).
  static ApplyOptions forThisMachine();
};

class InMemoryStateStore final : public StateStore {
 public:
  explicit InMemoryStateStore(ApplyOptions apply = ApplyOptions::forThisMachine())
      : apply_options_(apply) {}
  using StateStore::apply;
  absl::Status apply(const ModuleKey& key, const std::vector<std::string>& replaced_indices,
                     OpSource& ops) override;
  absl::StatusOr<IndexState> documents(const ModuleKey& key, const std::string& index) override;
  absl::StatusOr<std::vector<std::string>> indices(const ModuleKey& key) override;
  absl::StatusOr<std::string> checksum(const ModuleKey& key, const std::string& index) override;
  absl::Status putMetadata(const ModuleKey& key, const AgentMetadata& metadata) override;
  absl::StatusOr<AgentMetadata> metadata(const ModuleKey& key) override;
  absl::StatusOr<std::vector<ModuleSummary>> modules() override;

 private:
  const ApplyOptions apply_options_;
  std::mutex mu_;
  std::map<ModuleKey, std::map<std::string, IndexState>> modules_;  // -> index -> docs
  std::map<ModuleKey, AgentMetadata> metadata_;
};

// Applies a session to `state` (one module's indices): empties `replaced_indices`, then
// applies `ops` in order, moving their strings in. Ops of one index are applied in
// their order; `options` may let different indices be applied at once.
void applyHeld(const std::vector<std::string>& replaced_indices, HeldOpList& ops,
               std::map<std::string, IndexState>* state, const ApplyOptions& options);

// A list of index names as one string, each "<decimal length>:<bytes>" (a name may hold
// any character, a newline too), for stores that keep AgentMetadata::indices in a column.
std::string encodeNames(const std::vector<std::string>& names);
// DataLoss naming the damaged spot when `encoded` is not such a list.
absl::StatusOr<std::vector<std::string>> decodeNames(absl::string_view encoded);

// The §5.1 checksum of an index's documents.
std::string indexChecksum(const IndexState& documents);

}  // namespace asp::manager

#endif  // ASP_MANAGER_STATE_STORE_H_
