// ThreadSanitizer's built-in suppressions for binaries that link Debian's gRPC (linked
// only under --config=tsan, by //third_party:grpcpp).
//
// Debian's gRPC, Abseil and OpenSSL are not built with TSan, so it does not see the
// synchronization inside them: whatever gRPC hands from one of its threads to another
// (metadata, statuses, TLS buffers) looks like a race when those libraries copy it with
// memcpy or compare it with memcmp, calls TSan intercepts. `called_from_lib` makes TSan
// ignore the intercepted calls made from inside the named libraries (one library per
// line: a pattern that matches two is an error). ASP's own code is instrumented and
// stays fully checked, including its inline use of these libraries' headers.
extern "C" const char* __tsan_default_suppressions() {
  return "called_from_lib:libgrpc.so\n"
         "called_from_lib:libgrpc++.so\n"
         "called_from_lib:libgpr.so\n"
         "called_from_lib:libssl.so\n"
         "called_from_lib:libcrypto.so\n"
         "called_from_lib:libabsl_synchronization.so\n"
         "called_from_lib:libabsl_graphcycles_internal.so\n"
         "called_from_lib:libabsl_status.so\n"
         "called_from_lib:libabsl_strings.so\n"
         "called_from_lib:libabsl_cord.so\n"
         "called_from_lib:libabsl_cord_internal.so\n"
         // gRPC compresses and inflates its message buffers with zlib, which copies them.
         "called_from_lib:libz.so\n"
         // Abseil's random pool, seeded by gRPC channels that several threads create at
         // once (tests/fleet: many relays in one process).
         "called_from_lib:libabsl_random_internal_pool_urbg.so\n"
         // gRPC leaves some of its worker threads exited but not joined at shutdown.
         "thread:grpc_core::Thread::Thread\n";
}
