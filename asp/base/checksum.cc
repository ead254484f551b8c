#include "asp/base/checksum.h"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cstdlib>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace asp {
namespace {

constexpr char kHex[] = "0123456789abcdef";

std::string toHex(const unsigned char* digest, size_t length) {
  std::string hex(length * 2, '0');
  for (size_t i = 0; i < length; ++i) {
    hex[2 * i] = kHex[digest[i] >> 4];
    hex[2 * i + 1] = kHex[digest[i] & 0x0f];
  }
  return hex;
}

}  // namespace

std::string sha1Hex(absl::string_view data) {
  unsigned char digest[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return toHex(digest, SHA_DIGEST_LENGTH);
}

bool isChecksum(absl::string_view checksum) {
  return checksum.size() == 2 * SHA_DIGEST_LENGTH &&
         std::all_of(checksum.begin(), checksum.end(),
                     [](char c) { return absl::ascii_isdigit(c) || (c >= 'a' && c <= 'f'); });
}

std::string IndexChecksum::finish() {
  std::sort(checksums_.begin(), checksums_.end());
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                  &EVP_MD_CTX_free);
  unsigned char digest[SHA_DIGEST_LENGTH];
  unsigned int length = 0;
  // These only fail on allocation failure or a broken libcrypto; SHA-1 is built in.
  if (context == nullptr || EVP_DigestInit_ex(context.get(), EVP_sha1(), nullptr) != 1) {
    std::abort();
  }
  for (const std::string& checksum : checksums_) {
    EVP_DigestUpdate(context.get(), checksum.data(), checksum.size());
  }
  EVP_DigestFinal_ex(context.get(), digest, &length);
  return toHex(digest, length);
}

struct OrderedIndexChecksum::Digest {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context{EVP_MD_CTX_new(),
                                                                  &EVP_MD_CTX_free};
};

OrderedIndexChecksum::OrderedIndexChecksum() : digest_(std::make_unique<Digest>()) {
  // Fails only on allocation failure or a broken libcrypto, as in IndexChecksum.
  if (digest_->context == nullptr ||
      EVP_DigestInit_ex(digest_->context.get(), EVP_sha1(), nullptr) != 1) {
    std::abort();
  }
}

OrderedIndexChecksum::~OrderedIndexChecksum() = default;

absl::Status OrderedIndexChecksum::add(absl::string_view checksum) {
  if (!isChecksum(checksum)) {
    return absl::InvalidArgumentError(absl::StrCat("'", checksum, "' is not a document checksum"));
  }
  if (checksum < last_) {
    return absl::InvalidArgumentError(absl::StrCat("document checksum ", checksum,
                                                   " arrived after ", last_,
                                                   ": the read is not in ascending order"));
  }
  EVP_DigestUpdate(digest_->context.get(), checksum.data(), checksum.size());
  last_.assign(checksum.data(), checksum.size());
  return absl::OkStatus();
}

std::string OrderedIndexChecksum::finish() {
  unsigned char digest[SHA_DIGEST_LENGTH];
  unsigned int length = 0;
  EVP_DigestFinal_ex(digest_->context.get(), digest, &length);
  return toHex(digest, length);
}

}  // namespace asp
