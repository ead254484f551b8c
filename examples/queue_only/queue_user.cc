// A program that needs only ASP's durable queue: it records JSON lines from its
// arguments into a queue file and prints the counts. Its dependency closure holds no
// protocol core and no transport (checked by :deps_test).
#include <iostream>

#include "asp/storage/sqlite_change_queue.h"

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: queue_user DB ID...\n";
    return 1;
  }
  asp::SqliteChangeQueue::Options options;
  options.path = argv[1];
  auto queue = asp::SqliteChangeQueue::open(options);
  if (!queue.ok()) {
    std::cerr << queue.status() << "\n";
    return 2;
  }
  for (int i = 2; i < argc; ++i) {
    absl::Status s =
        (*queue)->record(asp::Change{argv[i], "states-example", asp::Operation::kCreate, "{}", 1});
    if (!s.ok()) {
      std::cerr << s << "\n";
      return 2;
    }
  }
  for (const asp::IndexCounts& c : (*queue)->counts().value_or(std::vector<asp::IndexCounts>{})) {
    std::cout << c.index << " " << c.pending << "\n";
  }
  return 0;
}
