# Shared by ae_nc.sh and ae_nc_tls.sh (sourced, after `set -euo pipefail`): a temporary
# working folder removed at exit with the background processes in `pids`, and the helpers
# both scripts wait and compare with. Sets $nc (absolute path to ae-nc, from $1) and $dir.
nc=$(realpath "$1")  # absolute: the scripts work in a temporary folder
dir=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT
cd "$dir"

# To stderr: fail may run inside $(…).
fail() {
  echo "FAIL: $*" >&2
  for f in *.err; do [ -s "$f" ] && { echo "--- $f"; cat "$f"; } >&2; done
  exit 1
}

size() { wc -c < "$1" | tr -d ' '; }

# Waits (bounded) until `file` holds a "listening on" line and prints its port; fails at
# once when the listener `pid` is gone without one.
listen_port() {
  local file=$1 pid=$2 line
  for _ in $(seq 200); do
    line=$(grep -m1 'listening on' "$file" 2>/dev/null || true)
    if [ -n "$line" ]; then echo "${line##*:}"; return 0; fi
    kill -0 "$pid" 2>/dev/null || fail "the listener exited without a 'listening on' line in $file"
    sleep 0.1
  done
  fail "no 'listening on' line in $file"
}

# Waits for the background process `pid`; its own `timeout` bounds this.
wait_ok() {
  local pid=$1 what=$2 rc=0
  wait "$pid" || rc=$?
  [ "$rc" -eq 0 ] || fail "$what exited with status $rc"
}

same() { cmp -s "$1" "$2" || fail "$3: $2 differs from $1 ($(size "$1") vs $(size "$2") bytes)"; }
