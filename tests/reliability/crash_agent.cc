// crash_agent: the module side of the crash campaign, as a process to be killed.
//
//   crash_agent --db=F --queue=SOCKET --start=N --batch=B --agent_id=A
//
// Forever: record the next B changes of the campaign stream (printing "ack <i>" once
// persistDifference returned OK for change i), then print "sync-begin", run a DELTA
// sync and print "sync-end <code>". Output is line-buffered on stdout so the campaign
// sees each acknowledgement as soon as it happens.
#include <cstdio>
#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "asp/core/socket_sync_protocol.h"
#include "tests/reliability/campaign_stream.h"

ABSL_FLAG(std::string, db, "", "queue database");
ABSL_FLAG(std::string, queue, "", "manager socket");
ABSL_FLAG(uint64_t, start, 0, "first change of the stream to record");
ABSL_FLAG(uint64_t, batch, 100, "changes recorded between syncs");
ABSL_FLAG(std::string, agent_id, "900", "agent id");
ABSL_FLAG(std::string, index, "states-campaign", "index");
ABSL_FLAG(bool, sync_once, false,
          "record one batch, sync until it succeeds (up to 50 tries), exit");

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  setvbuf(stdout, nullptr, _IOLBF, 0);
  asp::AgentSyncProtocol::Options o;
  o.module = "campaign";
  o.database_path = absl::GetFlag(FLAGS_db);
  // Short timeouts make sessions fail often while processes are being killed, which
  // is the point. The final sync only has to prove the manager ends up equal, and
  // under a loaded sanitizer build a manager can take longer than 3 x 300 ms to
  // commit a large session, so it waits as a production agent would.
  const bool sync_once = absl::GetFlag(FLAGS_sync_once);
  o.session.timeout = sync_once ? absl::Seconds(10) : absl::Milliseconds(300);
  o.session.retries = sync_once ? 5 : 2;
  o.session.backoff.initial = absl::Milliseconds(20);
  o.session.sync_end_delay = absl::ZeroDuration();
  const std::string agent_id = absl::GetFlag(FLAGS_agent_id);
  o.agent_info = [agent_id] {
    asp::AgentInfo info;
    info.id = agent_id;
    return info;
  };
  auto agent = asp::SocketSyncProtocol::create(o, absl::GetFlag(FLAGS_queue));
  if (!agent.ok()) {
    std::cerr << agent.status() << "\n";
    return 2;
  }
  asp::AgentSyncProtocol* p = &(*agent)->protocol();
  const std::string index = absl::GetFlag(FLAGS_index);
  for (uint64_t i = absl::GetFlag(FLAGS_start);;) {
    for (uint64_t end = i + absl::GetFlag(FLAGS_batch); i < end; ++i) {
      const asp::Change c = asp::reliability::streamChange(i, index);
      absl::Status s = p->persistDifference(c.id, c.operation, c.index, c.data, c.version);
      if (!s.ok()) {
        std::cerr << "persist " << i << ": " << s << "\n";
        return 3;
      }
      std::printf("ack %llu\n", static_cast<unsigned long long>(i));
    }
    std::printf("sync-begin\n");
    asp::SyncResult r = p->synchronizeModule(asp::Mode::kDelta);
    std::printf("sync-end %s\n", asp::syncCodeName(r.code).c_str());
    if (sync_once) {
      for (int attempt = 0; attempt < 50 && !r.ok(); ++attempt)
        r = p->synchronizeModule(asp::Mode::kDelta);
      return r.ok() ? 0 : 4;
    }
  }
}
