// The reason OpenSSL gives for its last failure, as text for an error message.
//
// OpenSSL records why a call failed on a per-thread error queue; a Status built after a
// failed call should carry that reason ("error:0480006C:PEM routines::no start line")
// so a person can tell a wrong file from a damaged one. Thread-safe (the queue is
// per thread).
#ifndef ASP_TLS_OPENSSL_ERROR_H_
#define ASP_TLS_OPENSSL_ERROR_H_

#include <string>

namespace asp::tls {

// Every error on this thread's OpenSSL queue, oldest first, joined with "; ", and clears
// the queue. "no reason given by OpenSSL" when it is empty.
std::string takeOpenSslErrors();

}  // namespace asp::tls

#endif  // ASP_TLS_OPENSSL_ERROR_H_
