#!/usr/bin/env bash
# check_deb.sh PACKAGE.deb — what an operator gets from ASP's Debian package, checked
# without installing it: its control data and contents (dpkg-deb -I / -c), every library
# its programs need declared in Depends, and the tools run from a scratch root
# (dpkg-deb -x): --help, a real manager on a temporary socket that aspctl persists to,
# syncs with and reads back, and tiny C and C++ modules compiled against the unpacked
# headers and libasp.so through pkg-config, syncing with that manager.
#
# Run by CI (.ci/run, on the -c opt package) and by //tests/package:deb_test. Under a
# sanitizer build (ASP_SANITIZER=asan|tsan) the tiny modules are built with it too.
set -euo pipefail

deb=${1:?usage: check_deb.sh PACKAGE.deb}
# Unix socket paths must fit in 108 bytes: Bazel's TEST_TMPDIR is often longer.
base=${TEST_TMPDIR:-/tmp}
(( ${#base} <= 48 )) || base=/tmp
work=$(mktemp -d "$base/asp-deb-check.XXXXXX")
manager_pid=""
cleanup() {
  if [[ -n $manager_pid ]]; then kill "$manager_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "check_deb: FAIL: $*" >&2; exit 1; }
step() { echo "check_deb: $*"; }
checks=0
pass() { checks=$((checks + 1)); }

step "control data (dpkg-deb -I)"
info=$(dpkg-deb -I "$deb")
for field in "Package: asp" "Architecture: amd64" "Depends: " "Description: "; do
  grep -q "^ $field" <<<"$info" || fail "no '$field' in the control data"
done
depends=$(dpkg-deb -f "$deb" Depends)
# The package names in Depends, one a line (versions and alternatives aside).
depends_names=$(tr ',|' '\n\n' <<<"$depends" | sed 's/^ *//; s/ .*//' | grep -v '^$')
dpkg-deb -I "$deb" conffiles | grep -x >/dev/null /etc/asp/manager.conf || fail "manager.conf is not a conffile"
pass

step "contents (dpkg-deb -c)"
contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
for path in ./usr/bin/asp_manager ./usr/bin/asp_relay ./usr/bin/aspctl \
            ./usr/lib/x86_64-linux-gnu/libasp.so.1 ./usr/lib/x86_64-linux-gnu/libasp.so \
            ./usr/lib/x86_64-linux-gnu/pkgconfig/asp.pc ./usr/lib/x86_64-linux-gnu/pkgconfig/asp-cpp.pc \
            ./usr/lib/x86_64-linux-gnu/pkgconfig/asp-established.pc \
            ./usr/include/asp/c_api/aspx.h \
            ./usr/include/asp/established/include/agent_sync_protocol.hpp \
            ./usr/include/asp/established/include/iagent_sync_protocol.hpp \
            ./usr/include/asp/established/include/agent_sync_protocol_c_interface.h \
            ./usr/include/asp/established/include/agent_sync_protocol_c_interface_types.h \
            ./usr/include/asp/transport/mq_functions.h ./usr/share/doc/asp/porting.md \
            ./usr/include/asp/core/socket_sync_protocol.h ./usr/include/asp/core/agent_sync_protocol.h \
            ./lib/systemd/system/asp-manager.service ./lib/systemd/system/asp-relay.service \
            ./etc/asp/manager.conf ./etc/asp/relay.conf ./usr/lib/sysusers.d/asp.conf \
            ./usr/share/doc/asp/copyright ./usr/share/doc/asp/protocol.md; do
  grep -qx -- "$path" <<<"$contents" || fail "$path is not in the package"
done
# A module's include closure is the interface and its value types: how sessions run
# (the session runner, the wire schema) is not part of it.
for private in ./usr/include/asp/core/session_runner.h ./usr/include/asp/core/protocol_impl.h \
               ./usr/include/asp/proto/wire.pb.h; do
  ! grep -qx -- "$private" <<<"$contents" || fail "$private is in the package: it is private"
done
pass

step "unpack into a scratch root (dpkg-deb -x)"
root=$work/root
dpkg-deb -x "$deb" "$root"
lib=$root/usr/lib/x86_64-linux-gnu
[[ -L $lib/libasp.so && $(readlink "$lib/libasp.so") == libasp.so.1 ]] || fail "libasp.so is not a link to libasp.so.1"
[[ $(readelf -d "$lib/libasp.so.1" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p') == libasp.so.1 ]] || fail "libasp.so.1 has another SONAME"
pass

step "every library the programs need comes from a package in Depends"
cache=$(ldconfig -p)
for elf in "$root"/usr/bin/* "$lib/libasp.so.1"; do
  for needed in $(readelf -d "$elf" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    path=$(awk -v n="$needed" '$1 == n && /x86-64/ {print $NF}' <<<"$cache" | head -1)
    [[ -n $path ]] || fail "$(basename "$elf") needs $needed, which this machine does not have"
    owner=$( (dpkg -S "$(readlink -f "$path")" 2>/dev/null || dpkg -S "$path" 2>/dev/null || true) |
            head -1 | cut -d: -f1)
    [[ -n $owner ]] || fail "no package owns $path ($needed)"
    case $owner in
      libasan*|libtsan*|libubsan*) continue ;;  # sanitizer builds only
    esac
    grep -qxF "$owner" <<<"$depends_names" || fail "$(basename "$elf") needs $needed from $owner, not in Depends: $depends"
  done
done
pass

step "--help exits 0 in every tool"
for tool in aspctl asp_manager asp_relay; do
  "$root/usr/bin/$tool" --help >"$work/$tool.help" || fail "$tool --help exited $?"
  grep -q "Exit codes:" "$work/$tool.help" || fail "$tool --help lists no exit codes"
done
pass

step "a real manager from the scratch root, aspctl against it"
queue=$work/queue
"$root/usr/bin/asp_manager" --socket="$queue" --state_dir="$work/state" >"$work/manager.out" 2>&1 &
manager_pid=$!
for _ in $(seq 200); do grep -q listening "$work/manager.out" && break; sleep 0.05; done
grep -q listening "$work/manager.out" || fail "asp_manager did not start: $(cat "$work/manager.out")"
aspctl=$root/usr/bin/aspctl
printf '%s\n' '{"id":"/etc/hosts","index":"states-fim-files","operation":"create","version":1,"data":"h"}' \
              '{"id":"/etc/passwd","index":"states-fim-files","operation":"modify","version":2,"data":"p"}' |
  "$aspctl" persist --db="$work/fim.db" --module=fim >/dev/null || fail "aspctl persist"
"$aspctl" status --db="$work/fim.db" | grep -E >/dev/null '^states-fim-files +2 +0$' || fail "aspctl status"
"$aspctl" sync --db="$work/fim.db" --module=fim --queue="$queue" --agent_id=042 --sync_end_delay=0 \
  | grep >/dev/null "delta sync: ok; 2 changes" || fail "aspctl sync"
"$aspctl" manager-copy --module=fim --state_dir="$work/state" --agent_id=042 >"$work/copy.jsonl"
[[ $(wc -l <"$work/copy.jsonl") -eq 2 ]] || fail "the manager holds $(wc -l <"$work/copy.jsonl") documents, not 2"
sum=$("$aspctl" checksum --index=states-fim-files --input="$work/copy.jsonl")
"$aspctl" check --module=fim --queue="$queue" --agent_id=042 --index=states-fim-files --checksum="$sum" \
  --sync_end_delay=0 | grep >/dev/null '^match' || fail "aspctl check"
pass

step "tiny C and C++ modules built against the unpacked headers and libasp.so (pkg-config)"
sanitize=()
case ${ASP_SANITIZER:-} in
  asan) sanitize=(-fsanitize=address,undefined) ;;
  tsan) sanitize=(-fsanitize=thread) ;;
esac
export PKG_CONFIG_PATH=$lib/pkgconfig
pc() { pkg-config --define-variable=prefix="$root/usr" "$@"; }
[[ $(pc --modversion asp) == "$(dpkg-deb -f "$deb" Version)" ]] || fail "asp.pc's version is not the package's"
cat >"$work/module.c" <<'C'
#include <stdio.h>
#include <string.h>
#include "asp/c_api/aspx.h"

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  aspx_options_t options;
  memset(&options, 0, sizeof(options));
  options.module = "inventory";
  options.db_path = argv[1];
  options.mq = NULL;
  options.queue_path = argv[2];
  options.timeout = 5;
  options.retries = 3;
  AspxHandle* asp = aspx_create_with_options(&options);
  if (asp == NULL) { fprintf(stderr, "%s\n", aspx_last_error()); return 1; }
  aspx_agent_info_t agent;
  memset(&agent, 0, sizeof(agent));
  agent.id = "043";
  if (aspx_set_agent_info(asp, &agent) != 0) return 1;
  if (aspx_persist_diff(asp, "openssl", ASPX_OPERATION_CREATE, "states-inventory", "{}", 1) != 0) return 1;
  aspx_sync_result_t r = aspx_sync_module(asp, ASPX_MODE_DELTA);
  printf("%s\n", r.success ? "synced" : r.reason);
  aspx_destroy(asp);
  return r.success ? 0 : 1;
}
C
# shellcheck disable=SC2046
cc -std=c11 -Wall -Werror "${sanitize[@]}" "$work/module.c" $(pc --cflags --libs asp) -o "$work/module" \
  || fail "the C module does not build against the package"
LD_LIBRARY_PATH=$lib ldd "$work/module" | grep >/dev/null "$lib/libasp.so.1" || fail "the C module does not use the unpacked libasp.so.1"
LD_LIBRARY_PATH=$lib "$work/module" "$work/inventory.db" "$queue" | grep -x >/dev/null synced || fail "the C module did not sync"
cat >"$work/module.cc" <<'CPP'
#include <iostream>
#include "asp/base/checksum.h"
#include "asp/core/socket_sync_protocol.h"

int main(int argc, char** argv) {
  if (argc != 3) return 2;
  asp::AgentSyncProtocol::Options o;
  o.module = "fim";
  o.database_path = argv[1];
  o.session.sync_end_delay = absl::ZeroDuration();
  o.agent_info = [] { asp::AgentInfo a = asp::defaultAgentInfo(); a.id = "044"; return a; };
  auto wired = asp::SocketSyncProtocol::create(o, argv[2]);
  if (!wired.ok()) { std::cerr << wired.status() << "\n"; return 1; }
  asp::AgentSyncProtocol& protocol = (*wired)->protocol();
  if (!protocol.persistDifference("/etc/motd", asp::Operation::kCreate, "states-fim-files", "m", 1).ok()) return 1;
  asp::SyncResult r = protocol.synchronizeModule(asp::Mode::kDelta);
  std::cout << (r.ok() ? "synced" : r.message) << " " << asp::sha1Hex("m") << "\n";
  return r.ok() ? 0 : 1;
}
CPP
# shellcheck disable=SC2046
c++ -Wall -Werror "${sanitize[@]}" "$work/module.cc" $(pc --cflags --libs asp-cpp) -o "$work/module_cpp" \
  || fail "the C++ module does not build against the package"
LD_LIBRARY_PATH=$lib "$work/module_cpp" "$work/fim-cpp.db" "$queue" | grep >/dev/null "^synced " || fail "the C++ module did not sync"
pass

step "modules on the established interface build against the package with their bare includes (pkg-config asp-established)"
# The agent's MQueue of these tiny modules cannot start: recording still works (durably),
# a sync fails with its reason, and the ASP extension asp_last_error says why.
cat >"$work/established.c" <<'C'
#include <stdio.h>
#include <string.h>
#include "agent_sync_protocol_c_interface.h"

static int no_start(const char* key, short type, short attempts) { (void)key; (void)type; (void)attempts; return -1; }
static int no_send(int q, const void* m, size_t n, const char* mod, char loc) { (void)q; (void)m; (void)n; (void)mod; (void)loc; return -1; }
static void quiet(modules_log_level_t level, const char* line) { (void)level; (void)line; }

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  MQ_Functions mq = {no_start, no_send};
  AgentSyncProtocolHandle* asp = asp_create("inventory", argv[1], &mq, quiet, 0, 1, 0, 0);
  if (asp == NULL) { fprintf(stderr, "%s\n", asp_last_error(NULL)); return 1; }
  asp_persist_diff(asp, "openssl", OPERATION_CREATE, "states-inventory", "{}", 1);
  if (strcmp(asp_last_error(asp), "") != 0) return 1;
  SyncModuleResult_t r = asp_sync_module(asp, MODE_DELTA);
  bool full = asp_requires_full_sync(asp, "states-inventory", "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  printf("%s %d %s\n", r.success ? "synced" : "failed", full, r.failure_reason);
  asp_destroy(asp);
  return r.success || full ? 1 : 0;
}
C
cat >"$work/established.cc" <<'CPP'
#include <iostream>
#include "agent_sync_protocol.hpp"

static int no_start(const char*, short, short) { return -1; }
static int no_send(int, const void*, size_t, const char*, char) { return -1; }

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  LoggerFunc quiet = [](modules_log_level_t, const std::string&) {};
  AgentSyncProtocol fim("fim", std::string(argv[1]), MQ_Functions{no_start, no_send}, quiet,
                        std::chrono::seconds(0), std::chrono::seconds(1), 0, 0);
  fim.persistDifference("/etc/motd", Operation::CREATE, "states-fim-files", "m", 1);
  if (!fim.lastError().empty()) return 1;
  SyncModuleResult r = fim.synchronizeModule(Mode::DELTA);
  std::cout << (r.success ? "synced" : "failed") << " " << r.failureReason << "\n";
  return r.success ? 1 : 0;
}
CPP
# shellcheck disable=SC2046
cc -std=c11 -Wall -Werror "${sanitize[@]}" "$work/established.c" $(pc --cflags --libs asp-established) -o "$work/established" \
  || fail "the established C module does not build against the package"
LD_LIBRARY_PATH=$lib "$work/established" "$work/established.db" | grep >/dev/null "^failed 0 transport error" \
  || fail "the established C module did not run as expected"
# shellcheck disable=SC2046
c++ -Wall -Werror "${sanitize[@]}" "$work/established.cc" $(pc --cflags --libs asp-established) -o "$work/established_cpp" \
  || fail "the established C++ module does not build against the package"
LD_LIBRARY_PATH=$lib "$work/established_cpp" "$work/established-cpp.db" | grep >/dev/null "^failed transport error" \
  || fail "the established C++ module did not run as expected"
pass

step "the manager stops cleanly and holds what the three clients sent"
kill -TERM "$manager_pid"
wait "$manager_pid" || fail "asp_manager exited $? on SIGTERM"
manager_pid=""
grep -q "sessions applied 3" "$work/manager.out" || fail "manager: $(tail -1 "$work/manager.out")"
for agent_module in 043:inventory 044:fim; do
  agent=${agent_module%%:*} module=${agent_module#*:}
  [[ $("$aspctl" manager-copy --module=$module --state_dir="$work/state" --agent_id=$agent | wc -l) -eq 1 ]] \
    || fail "agent $agent's $module document is missing"
done
pass

echo "check_deb: $checks passed, 0 failed"
