#include "asp/tls/openssl_error.h"

#include <openssl/err.h>

namespace asp::tls {

std::string takeOpenSslErrors() {
  std::string reasons;
  while (const unsigned long code = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(code, text, sizeof(text));
    if (!reasons.empty()) reasons += "; ";
    reasons += text;
  }
  return reasons.empty() ? "no reason given by OpenSSL" : reasons;
}

}  // namespace asp::tls
