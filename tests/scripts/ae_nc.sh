#!/bin/bash
# ae-nc end to end, on whichever backend ANYEVENT_BACKEND selects: a relay in both directions
# over a unix socket, TCP on 127.0.0.1 and ::1 (1 MiB of random bytes one way, so writes hit
# EAGAIN and partial sends), then the error paths and their exit statuses.
# Usage: ae_nc.sh PATH/TO/ae-nc
set -euo pipefail
source "$(dirname "$0")/nc_common.sh"

head -c 1048576 /dev/urandom > big
seq 1 2000 > small  # about 9 KiB of text

# 1. unix socket: the client sends 1 MiB, the listener a small text. The listener's stdout
#    is a FIFO whose reader starts only after the connection, so the listener stalls, the
#    socket buffers fill and the client's sends hit EAGAIN and partial writes (1 MiB is far
#    more than a unix socket and a pipe hold).
mkfifo fifo1
timeout 60 sh -c 'until grep -q "connection on" unix-server.err; do sleep 0.1; done; sleep 0.5; exec cat' \
  < fifo1 > out1 &
reader=$!; pids+=("$reader")
timeout 60 "$nc" -v -l -U sock < small > fifo1 2> unix-server.err &
srv=$!; pids+=("$srv")
listen_port unix-server.err "$srv" > /dev/null
[ -S sock ] || fail "unix: no socket at $dir/sock"
timeout 60 "$nc" -v -U sock < big > out2 2> unix-client.err || fail "unix: client exited with status $?"
wait_ok "$srv" "unix: server"
wait_ok "$reader" "unix: delayed reader"
grep -q 'connected to sock$' unix-client.err || fail "unix: client -v did not name the path"
grep -q 'connection on sock$' unix-server.err || fail "unix: server -v did not name the path"
same big out1 "unix: client to server"
same small out2 "unix: server to client"
[ ! -e sock ] || fail "unix: the server left its socket file behind"
echo "ok: unix socket, both directions"

# 2. TCP on 127.0.0.1, ephemeral port reported by -v: now the listener sends 1 MiB.
rm -f out1 out2
timeout 60 "$nc" -v -l 127.0.0.1 0 < big > out1 2> tcp-server.err &
srv=$!; pids+=("$srv")
port=$(listen_port tcp-server.err "$srv")
[ "$port" -gt 0 ] || fail "tcp: bad port '$port'"
timeout 60 "$nc" -v 127.0.0.1 "$port" < small > out2 2> tcp-client.err || fail "tcp: client exited with status $?"
wait_ok "$srv" "tcp: server"
same small out1 "tcp: client to server"
same big out2 "tcp: server to client"
grep -q "connected to 127.0.0.1:$port" tcp-client.err || fail "tcp: client -v did not report the connection"
grep -q "connection from 127.0.0.1:" tcp-server.err || fail "tcp: server -v did not report the connection"
echo "ok: tcp 127.0.0.1:$port, both directions"

# 3. TCP on ::1 (when the host has IPv6 loopback), through pipes rather than files this time.
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
  rm -f out1
  mkfifo fifo
  timeout 60 cat fifo > out1 &
  reader=$!; pids+=("$reader")
  timeout 60 "$nc" -v -l ::1 0 < /dev/null > fifo 2> tcp6-server.err &
  srv=$!; pids+=("$srv")
  port=$(listen_port tcp6-server.err "$srv")
  grep -q 'listening on \[::1\]:' tcp6-server.err || fail "tcp6: listening line is not [::1]:port"
  # shellcheck disable=SC2002 # stdin must be a pipe here, not the file
  cat big | timeout 60 "$nc" ::1 "$port" > /dev/null 2> tcp6-client.err || fail "tcp6: client exited with status $?"
  wait_ok "$srv" "tcp6: server"
  wait_ok "$reader" "tcp6: cat"
  same big out1 "tcp6: client to server"
  echo "ok: tcp [::1]:$port"
else
  echo "skip: no IPv6 loopback"
fi

# 4. Errors. Expects status `want` (or "nonzero") from the command after it, below 128
#    (no crash, no timeout), and stderr saved to $err.
expect_status() {
  local want=$1 rc=0; shift
  timeout 30 "$@" > out 2> err || rc=$?
  if [ "$want" = nonzero ]; then
    [ "$rc" -ne 0 ] && [ "$rc" -lt 124 ] || fail "'$*' exited with $rc, expected a non-zero status below 124"
  else
    [ "$rc" -eq "$want" ] || { cat err; fail "'$*' exited with $rc, expected $want"; }
  fi
}

# A port nobody listens on: one a listener had, after it is gone.
timeout 30 "$nc" -v -l 127.0.0.1 0 < /dev/null > /dev/null 2> closed.err &
srv=$!; pids+=("$srv")
port=$(listen_port closed.err "$srv")
expect_status 1 "$nc" -l 127.0.0.1 "$port"
grep -qi 'in use' err || fail "port in use: $(cat err)"
echo "ok: listen on a port in use -> 1 ($(cat err))"
kill "$srv"; wait "$srv" 2>/dev/null || true
expect_status 1 "$nc" 127.0.0.1 "$port"
grep -qi refused err || fail "refused: stderr lacks 'refused': $(cat err)"
echo "ok: connection refused -> 1 ($(cat err))"

expect_status 1 "$nc" -U "$dir/no-such-socket"
grep -q 'No such file' err || fail "missing unix socket: $(cat err)"
echo "ok: missing unix socket -> 1 ($(cat err))"

expect_status 2 "$nc"
grep -q '^usage: ae-nc' err || fail "no arguments: no usage on stderr"
[ ! -s out ] || fail "no arguments: usage went to stdout"
expect_status 2 "$nc" -w abc host 1
grep -q "bad timeout 'abc'" err && grep -q '^usage: ae-nc' err || fail "-w abc: $(cat err)"
expect_status 2 "$nc" -x host 1
grep -q 'unknown option -x' err || fail "-x: $(cat err)"
expect_status 0 "$nc" --help
grep -q '^usage: ae-nc' out || fail "--help: no usage on stdout"
[ ! -s err ] || fail "--help: wrote to stderr"
echo "ok: usage errors -> 2, --help -> 0"

expect_status 1 "$nc" 127.0.0.1 no-such-service-name
grep -q 'no-such-service-name' err || fail "unknown service: message does not name it: $(cat err)"
expect_status 1 "$nc" -l 127.0.0.1 no-such-service-name
grep -q 'no-such-service-name' err || fail "unknown service (listen): message does not name it: $(cat err)"
echo "ok: unknown service -> 1 ($(head -1 err))"

expect_status nonzero env ANYEVENT_BACKEND=nosuch "$nc" 127.0.0.1 1
grep -q 'nosuch' err && grep -q 'poll' err || fail "unknown backend: message does not list the backends: $(cat err)"
echo "ok: unknown backend -> non-zero ($(head -1 err))"
