#include "bench/socket_deployment.h"

#include <set>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "bench/storage_bench_support.h"

namespace asp::bench {
namespace {

// The documents compared one by one: first, last, middle and a spread in between.
std::set<uint64_t> spotChecks(uint64_t changes) {
  std::set<uint64_t> picks;
  if (changes == 0) return picks;
  picks = {0, changes - 1, changes / 2};
  for (uint64_t k = 1; picks.size() < 10 && k <= 10; ++k) picks.insert((k * 104729) % changes);
  return picks;
}

absl::Status compare(const manager::IndexState& documents, const Change& expected) {
  const auto found = documents.find(expected.id);
  if (found == documents.end()) {
    return absl::NotFoundError(absl::StrCat("the manager has no document '", expected.id,
                                            "' in index '", expected.index, "'"));
  }
  if (found->second.data != expected.data || found->second.version != expected.version) {
    return absl::DataLossError(
        absl::StrCat("document '", expected.id, "': the manager has ", found->second.data.size(),
                     " bytes, version ", found->second.version, "; expected ", expected.data.size(),
                     " bytes, version ", expected.version));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<SocketDeployment>> SocketDeployment::start(
    const std::string& socket_path, const std::string& queue_path, size_t manager_budget_bytes) {
  std::unique_ptr<SocketDeployment> d(new SocketDeployment());
  manager::ManagerServer::Options server;
  server.socket_path = socket_path;
  server.core.max_buffered_bytes = manager_budget_bytes;
  absl::StatusOr<std::unique_ptr<manager::ManagerServer>> started =
      manager::ManagerServer::start(server, &d->store_);
  if (!started.ok()) return started.status();
  d->server_ = *std::move(started);

  UnixDatagramTransport::Options socket;
  socket.queue_path = socket_path;
  socket.module = kModule;
  absl::StatusOr<std::unique_ptr<UnixDatagramTransport>> opened =
      UnixDatagramTransport::open(socket);
  if (!opened.ok()) return opened.status();
  d->socket_ = *std::move(opened);
  d->timing_ = std::make_unique<testing::TimingTransport>(d->socket_.get());

  AgentSyncProtocol::Options options;
  options.module = kModule;
  options.database_path = queue_path;
  options.transport = d->timing_.get();
  options.agent_info = benchAgentInfo;
  options.session.sync_end_delay = absl::ZeroDuration();
  // One session of the whole backlog, as the plain side sends it (bounded sessions are
  // measured on their own in session_bench's 3_bounded).
  options.session.max_session_values = 0;
  options.session.max_session_bytes = 0;
  absl::StatusOr<std::unique_ptr<AgentSyncProtocol>> protocol =
      AgentSyncProtocol::create(std::move(options));
  if (!protocol.ok()) return protocol.status();
  d->protocol_ = *std::move(protocol);

  AgentSyncProtocol* p = d->protocol_.get();
  std::atomic<int64_t>* answered = &d->answered_ns_;
  d->socket_->setAnswerHandler([p, answered](const uint8_t* data, size_t length) {
    *answered =
        std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now().time_since_epoch())
            .count();
    (void)p->parseResponseBuffer(data, length);
  });
  return d;
}

SocketDeployment::~SocketDeployment() {
  if (socket_ != nullptr) socket_->setAnswerHandler(nullptr);
  protocol_.reset();
  timing_.reset();
  socket_.reset();
  if (server_ != nullptr) server_->stop();
}

absl::Status SocketDeployment::verifyBacklogDelivered(uint64_t changes) {
  const manager::ModuleKey key{benchAgentInfo().id, kModule};
  absl::StatusOr<std::vector<std::string>> indices = store_.indices(key);
  if (!indices.ok()) return indices.status();
  std::vector<Change> expected;
  for (uint64_t n : spotChecks(changes)) {
    expected.emplace_back();
    fillChange("doc-", n, &expected.back());
  }
  uint64_t total = 0;
  size_t checked = 0;
  for (const std::string& index : *indices) {
    // One index at a time: documents() returns a copy.
    absl::StatusOr<manager::IndexState> documents = store_.documents(key, index);
    if (!documents.ok()) return documents.status();
    total += documents->size();
    for (const Change& change : expected) {
      if (change.index != index) continue;
      if (absl::Status s = compare(*documents, change); !s.ok()) return s;
      ++checked;
    }
  }
  if (total != changes || checked != expected.size()) {
    return absl::DataLossError(absl::StrCat(
        "the manager holds ", total, " documents in ", indices->size(), " indices; ", changes,
        " were sent (", checked, " of ", expected.size(), " spot checks found their index)"));
  }
  return absl::OkStatus();
}

}  // namespace asp::bench
