// What the snippets of docs/integration-guide.md take from the module around them: the
// usual includes, and the module's own documents (the test defines my_documents_of).
#ifndef TESTS_DOCS_INTEGRATION_GUIDE_PRELUDE_H_
#define TESTS_DOCS_INTEGRATION_GUIDE_PRELUDE_H_

#include <cstdint>
#include <iostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "asp/core/agent_sync_protocol.h"

namespace doc_snippets {

// One of the module's documents.
struct Document {
  std::string id;
  std::string data;
  uint64_t version = 0;
};

// The documents the module holds for `index`.
std::vector<Document> my_documents_of(const std::string& index);

}  // namespace doc_snippets

#endif  // TESTS_DOCS_INTEGRATION_GUIDE_PRELUDE_H_
