#include "fim_module/fim_module.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "absl/strings/str_cat.h"
#include "asp/base/checksum.h"

namespace fim {
namespace {

namespace fs = std::filesystem;

// The document describing one file: what a real FIM would hash and watch.
absl::StatusOr<std::string> describe(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::UnavailableError(absl::StrCat("cannot read ", path.string()));
  std::ostringstream content;
  content << in.rdbuf();
  const std::string bytes = content.str();
  return absl::StrCat(R"({"path":")", path.string(), R"(","size":)", bytes.size(), R"(,"sha1":")",
                      asp::sha1Hex(bytes), R"("})");
}

}  // namespace

FimModule::FimModule(asp::AgentSyncProtocol& protocol, std::string root, std::string index)
    : protocol_(protocol), root_(std::move(root)), index_(std::move(index)) {}

absl::StatusOr<ScanResult> FimModule::scan() {
  ++scans_;
  std::map<std::string, std::string> current;
  std::error_code error;
  for (fs::recursive_directory_iterator it(root_, error), end; !error && it != end;
       it.increment(error)) {
    if (!it->is_regular_file()) continue;
    absl::StatusOr<std::string> document = describe(it->path());
    if (!document.ok()) continue;  // vanished or unreadable since listed: next scan
    current[it->path().string()] = *std::move(document);
  }
  if (error)
    return absl::UnavailableError(absl::StrCat("cannot scan ", root_, ": ", error.message()));

  ScanResult result;
  for (const auto& [path, document] : current) {
    auto known = documents_.find(path);
    if (known != documents_.end() && known->second == document) continue;
    const asp::Operation op =
        known == documents_.end() ? asp::Operation::kCreate : asp::Operation::kModify;
    if (absl::Status s = protocol_.persistDifference(path, op, index_, document, scans_); !s.ok())
      return s;
    ++(op == asp::Operation::kCreate ? result.created : result.modified);
  }
  for (const auto& [path, document] : documents_) {
    if (current.count(path) != 0) continue;
    if (absl::Status s =
            protocol_.persistDifference(path, asp::Operation::kDelete, index_, "", scans_);
        !s.ok()) {
      return s;
    }
    ++result.deleted;
  }
  documents_ = std::move(current);
  return result;
}

asp::SyncResult FimModule::sync() { return protocol_.synchronizeModule(asp::Mode::kDelta); }

std::string FimModule::checksum() const {
  asp::IndexChecksum checksum;
  for (const auto& [path, document] : documents_) checksum.addDocument(document);
  return checksum.finish();
}

absl::StatusOr<bool> FimModule::checkAndRecover() {
  absl::StatusOr<bool> mismatch = protocol_.requiresFullSync(index_, checksum());
  if (!mismatch.ok() || !*mismatch) return mismatch;
  if (documents_.empty()) {
    asp::SyncResult clean = protocol_.notifyDataClean({index_});
    if (!clean.ok()) return asp::toStatus(clean);
    return true;
  }
  protocol_.clearInMemoryData();
  for (const auto& [path, document] : documents_) {
    absl::Status s = protocol_.persistDifferenceInMemory(path, asp::Operation::kCreate, index_,
                                                         document, scans_);
    if (!s.ok()) return s;
  }
  asp::SyncResult full = protocol_.synchronizeModule(asp::Mode::kFull);
  if (!full.ok()) return asp::toStatus(full);
  return true;
}

}  // namespace fim
