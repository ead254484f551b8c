// gRPC's own log lines, in the words of the program that runs it.
//
// gRPC writes its errors (among them every refused TLS handshake, which no API reports
// to the server) to stderr in its own format. routeGrpcLog() sends each line to a sink
// instead, rewritten by describeGrpcLogLine(): a failed handshake becomes
// "TLS handshake refused: <OpenSSL's reason> (<what it usually means>)", anything else
// "grpc: <message>". Only lines at gRPC's verbosity (GRPC_VERBOSITY, default ERROR)
// reach the sink.
//
// Thread-safety: routeGrpcLog() is process-wide (gRPC has one log function); call it
// once, early in main(), before gRPC starts. The sink is called from gRPC's threads.
#ifndef ASP_TLS_GRPC_LOG_H_
#define ASP_TLS_GRPC_LOG_H_

#include <functional>
#include <string>

#include "absl/strings/string_view.h"

namespace asp::tls {

using LogSink = std::function<void(absl::string_view line)>;

void routeGrpcLog(LogSink sink);

// The line routeGrpcLog() hands its sink for gRPC's `message`.
std::string describeGrpcLogLine(absl::string_view message);

}  // namespace asp::tls

#endif  // ASP_TLS_GRPC_LOG_H_
