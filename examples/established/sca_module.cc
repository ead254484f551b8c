#include "established/sca_module.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <vector>

namespace {

std::string sha1Hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha1(), nullptr);
  std::string hex;
  char byte[3];
  for (unsigned int i = 0; i < length; ++i) {
    std::snprintf(byte, sizeof(byte), "%02x", digest[i]);
    hex += byte;
  }
  return hex;
}

}  // namespace

std::string ScaModule::document(const std::string& id, const std::string& result) {
  return "{\"check\":\"" + id + "\",\"result\":\"" + result + "\"}";
}

int ScaModule::assess(const std::map<std::string, std::string>& results) {
  int recorded = 0;
  for (const auto& [id, result] : held_) {
    if (results.count(id) == 0) {
      protocol_.persistDifference(id, Operation::DELETE_, kIndex, document(id, result), ++version_);
      ++recorded;
    }
  }
  for (const auto& [id, result] : results) {
    auto before = held_.find(id);
    if (before != held_.end() && before->second == result) continue;
    protocol_.persistDifference(id, before == held_.end() ? Operation::CREATE : Operation::MODIFY,
                                kIndex, document(id, result), ++version_);
    ++recorded;
  }
  held_ = results;
  return recorded;
}

bool ScaModule::requiresFullSync() {
  // The manager's index checksum: SHA-1 of the documents' sorted SHA-1s.
  std::vector<std::string> sums;
  for (const auto& [id, result] : held_) sums.push_back(sha1Hex(document(id, result)));
  std::sort(sums.begin(), sums.end());
  std::string all;
  for (const std::string& s : sums) all += s;
  return protocol_.requiresFullSync(kIndex, sha1Hex(all));
}

SyncModuleResult ScaModule::recover() {
  protocol_.clearInMemoryData();
  for (const auto& [id, result] : held_) {
    protocol_.persistDifferenceInMemory(id, Operation::CREATE, kIndex, document(id, result),
                                        version_);
  }
  SyncModuleResult r = protocol_.synchronizeModule(Mode::FULL);
  protocol_.clearInMemoryData();
  return r;
}
