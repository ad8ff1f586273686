#!/bin/bash
# ae-nc --tls end to end, on whichever backend ANYEVENT_BACKEND selects: against openssl
# s_server and s_client, ae-nc to ae-nc over TCP and a unix socket (1 MiB of random bytes,
# so writes hit EAGAIN and the handle's write buffer fills), then verification failures and
# bad TLS options with their exit statuses. Certificates are made here with the openssl CLI.
# Usage: ae_nc_tls.sh PATH/TO/ae-nc
#
# Note: openssl s_server and s_client end the connection when their own stdin ends, so
# their stdin is held open (feed) until they have received everything. Two ae-nc's read
# their stdin from files and end their uploads whenever they are done: a TLS half-close
# (close_notify, then SHUT_WR) while the other side is still sending.
set -euo pipefail
command -v openssl > /dev/null || { echo "skip: no openssl"; exit 77; }
source "$(dirname "$0")/nc_common.sh"

# A CA, a server certificate it signed for localhost and 127.0.0.1, and a self-signed one.
quiet() { "$@" > openssl.log 2>&1 || { cat openssl.log >&2; fail "$*"; }; }
ec=(-newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes)
quiet openssl req -x509 "${ec[@]}" -keyout ca.key -out ca.pem -days 2 -subj /CN=ae-nc-test-ca
quiet openssl req "${ec[@]}" -keyout server.key -out server.csr -subj /CN=localhost
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server.ext
quiet openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile server.ext \
  -out server.pem
quiet openssl req -x509 "${ec[@]}" -keyout self.key -out self.pem -days 2 -subj /CN=localhost \
  -addext subjectAltName=DNS:localhost,IP:127.0.0.1

head -c 1048576 /dev/urandom > big
head -c 1048576 /dev/urandom > big2
seq 1 2000 > small  # about 9 KiB of text

# The TCP port the background process `pid` — or its child, as `timeout` runs the real
# program — listens on, read from /proc (s_server -quiet does not say, and a port probed
# free beforehand may be taken by a test running in parallel). Bounded; fails at once when
# `pid` is gone.
listening_port() {
  local pid=$1 p fd inode port
  for _ in $(seq 200); do
    for p in "$pid" $(cat /proc/"$pid"/task/*/children 2>/dev/null); do
      for fd in /proc/"$p"/fd/*; do
        inode=$(readlink "$fd" 2>/dev/null | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p')
        [ -n "$inode" ] || continue
        port=$(awk -v inode="$inode" '$4 == "0A" && $10 == inode { split($2, a, ":"); print a[2] }' /proc/net/tcp)
        if [ -n "$port" ]; then echo $((16#$port)); return 0; fi
      done
    done
    kill -0 "$pid" 2>/dev/null || fail "the server exited before listening"
    sleep 0.1
  done
  fail "the server did not listen"
}

# stdin for an openssl side that must not end early (see the note at the top): `file`,
# then held open (bounded) until `out` has `bytes` bytes.
feed() {
  local file=$1 out=$2 bytes=$3
  cat "$file"
  for _ in $(seq 600); do
    [ "$(size "$out" 2>/dev/null || echo 0)" -ge "$bytes" ] && return 0
    sleep 0.1
  done
}

established() { grep -q 'tls: established (TLSv1\.[23], ' "$1" || fail "$2: no 'tls: established' line in $1"; }

# (a) ae-nc client (verifying localhost against the CA) to openssl s_server: 1 MiB up, text down.
mkfifo fifo-a
feed small a-server.out "$(size big)" > fifo-a &
pids+=("$!")
timeout 60 openssl s_server -quiet -naccept 1 -accept 127.0.0.1:0 -cert server.pem -key server.key \
  < fifo-a > a-server.out 2> a-server.err &
srv=$!; pids+=("$srv")
port=$(listening_port "$srv")
timeout 60 "$nc" -v --tls --cafile ca.pem localhost "$port" < big > a-client.out 2> a-client.err ||
  fail "s_server: ae-nc exited with status $?"
wait_ok "$srv" "s_server: s_server"
same big a-server.out "s_server: ae-nc to s_server"
same small a-client.out "s_server: s_server to ae-nc"
established a-client.err "s_server"
echo "ok: ae-nc --tls to openssl s_server, both directions ($(grep -o 'established.*' a-client.err))"

# (b) openssl s_client (verifying the chain and the name) to ae-nc -l --tls: text up, 1 MiB down.
#     s_client -quiet ignores its stdin's EOF and ends when ae-nc's close_notify arrives.
mkfifo fifo-b
feed big b-server.out "$(size small)" > fifo-b &
pids+=("$!")
timeout 60 "$nc" -v -l --tls --cert server.pem --key server.key 127.0.0.1 0 < fifo-b > b-server.out \
  2> b-server.err &
srv=$!; pids+=("$srv")
port=$(listen_port b-server.err "$srv")
timeout 60 openssl s_client -quiet -connect "127.0.0.1:$port" -servername localhost -CAfile ca.pem \
  -verify_return_error -verify_hostname localhost < small > b-client.out 2> b-client.err ||
  fail "s_client: s_client exited with status $?"
wait_ok "$srv" "s_client: ae-nc -l"
same small b-server.out "s_client: s_client to ae-nc"
same big b-client.out "s_client: ae-nc to s_client"
established b-server.err "s_client"
grep -q 'sni localhost' b-server.err || fail "s_client: the listener did not report the SNI name"
echo "ok: openssl s_client to ae-nc -l --tls, both directions"

# (c) ae-nc to ae-nc, 1 MiB each way at once, each side's upload ending (close_notify and
#     SHUT_WR) while the other still sends: over TCP (the client names 127.0.0.1, so the
#     certificate's IP address is checked), then over a unix socket with ALPN.
# Usage: relay WHAT "SERVER ARGS" "CLIENT ARGS" (PORT in the client's becomes the port).
relay() {
  local what=$1 rc=0 server client
  read -r -a server <<< "$2"
  rm -f c-server.* c-client.*
  timeout 60 "$nc" -v -l --tls --cert server.pem --key server.key "${server[@]}" < big2 > c-server.out \
    2> c-server.err &
  srv=$!; pids+=("$srv")
  port=$(listen_port c-server.err "$srv")
  read -r -a client <<< "${3//PORT/$port}"
  timeout 60 "$nc" -v --tls --cafile ca.pem "${client[@]}" < big > c-client.out 2> c-client.err || rc=$?
  [ "$rc" -eq 0 ] || fail "$what: client exited with status $rc"
  wait_ok "$srv" "$what: server"
  same big c-server.out "$what: client to server"
  same big2 c-client.out "$what: server to client"
  established c-client.err "$what (client)"
  established c-server.err "$what (server)"
}
relay tcp "127.0.0.1 0" "127.0.0.1 PORT"
echo "ok: ae-nc --tls to ae-nc -l --tls over TCP, 1 MiB both ways"
relay unix "--alpn http/1.1,h2 -U sock" "--servername localhost --alpn h2,http/1.1 -U sock"
grep -q 'alpn http/1.1' c-client.err || fail "unix: the client did not report the ALPN the server chose"
[ ! -e sock ] || fail "unix: the server left its socket file behind"
echo "ok: ae-nc --tls over a unix socket with ALPN, 1 MiB both ways ($(grep -o 'established.*' c-client.err))"

# (d) Errors. Expects status `want` from the command after it, and stderr saved to $err.
expect_status() {
  local want=$1 rc=0; shift
  timeout 30 "$@" > out 2> err || rc=$?
  [ "$rc" -eq "$want" ] || { cat err; fail "'$*' exited with $rc, expected $want"; }
}

# A one-connection listener with `cert` and `key` sending `text`; sets $srv and $port.
listener() {
  timeout 30 "$nc" -v -l --tls --cert "$1" --key "$2" 127.0.0.1 0 <<< "$3" > /dev/null 2> listener.err &
  srv=$!; pids+=("$srv")
  port=$(listen_port listener.err "$srv")
}

listener self.pem self.key "from an untrusted server"
expect_status 1 "$nc" --tls localhost "$port" < /dev/null
grep -q '^ae-nc: tls: .*verify' err || fail "untrusted: no verify failure reported: $(cat err)"
wait "$srv" 2>/dev/null || true
echo "ok: untrusted certificate -> 1 ($(cat err))"

listener self.pem self.key "hello insecurely"
expect_status 0 "$nc" --tls --insecure localhost "$port" < /dev/null
[ "$(cat out)" = "hello insecurely" ] || fail "--insecure: got '$(cat out)'"
wait_ok "$srv" "--insecure: server"
echo "ok: --insecure against it -> 0"

listener server.pem server.key "not for you"
expect_status 1 "$nc" --tls --cafile ca.pem --servername wrong.example 127.0.0.1 "$port" < /dev/null
grep -qi 'hostname mismatch' err || fail "wrong name: no hostname mismatch reported: $(cat err)"
[ ! -s out ] || fail "wrong name: data reached stdout"
wait "$srv" 2>/dev/null || true
echo "ok: wrong --servername -> 1 ($(cat err))"

expect_status 2 "$nc" -l --tls 127.0.0.1 0
grep -q 'needs --cert' err && grep -q '^usage: ae-nc' err || fail "-l --tls without --cert: $(cat err)"
expect_status 2 "$nc" --cafile ca.pem 127.0.0.1 1
grep -q -- '--cafile needs --tls' err || fail "--cafile without --tls: $(cat err)"
expect_status 2 "$nc" --tls --cert server.pem 127.0.0.1 1
grep -q -- '--cert needs --key' err || fail "--cert without --key: $(cat err)"
expect_status 0 "$nc" --help
grep -q -- '--servername' out || fail "--help does not describe the TLS options"
echo "ok: TLS usage errors -> 2"

expect_status 1 "$nc" -l --tls --cert missing.pem --key server.key 127.0.0.1 0
grep -q 'missing.pem' err || fail "missing --cert file: not named: $(cat err)"
expect_status 1 "$nc" --tls --cafile missing-ca.pem 127.0.0.1 1
grep -q 'missing-ca.pem' err || fail "missing --cafile: not named: $(cat err)"
expect_status 1 "$nc" -l --tls --cert server.pem --key self.key 127.0.0.1 0
grep -Eq 'mismatch|does not match' err || fail "key not matching the certificate: $(cat err)"
expect_status 1 "$nc" -l --tls --cert small --key server.key 127.0.0.1 0
grep -q 'cert' err || fail "a --cert that is no certificate: $(cat err)"
echo "ok: bad TLS files -> 1 ($(cat err))"
