#!/bin/sh
# ae-bench itself is never timed in CI (its figures vary with the machine), but it must run:
# every column it was built for measures both sides, --json writes what it printed, --aa
# checks no bar, `phase` counts the part it is asked for, and bad arguments are usage
# errors (exit 2), not runs. With a second argument, libae-wait-clock.so preloaded into a
# run times both sides' waits.
bench="$1"
wait_clock="${2:-}"
out=$(mktemp -d) || exit 1
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
# aa_run NAME ARGS...: ae-bench ARGS --aa --pairs 1 --backend poll into $out/NAME.txt, shown;
# an A/A run checks no bar, so anything but exit 0 fails.
aa_run() {
  name=$1
  shift
  "$bench" "$@" --aa --pairs 1 --backend poll >"$out/$name.txt" 2>&1
  rc=$?
  cat "$out/$name.txt"
  [ $rc -eq 0 ] || fail "ae-bench $* --aa exited $rc"
}

# One measured pair of the quick io workload on every column. A missed bar (exit 1) is a
# figure, not a failure here; a run that failed is (exit 2).
"$bench" io --pairs 1 --json "$out/io.json" >"$out/io.txt" 2>&1
rc=$?
cat "$out/io.txt"
[ $rc -le 1 ] || fail "ae-bench io exited $rc"
for column in poll poll-posix; do
  grep -Eq "^$column +raw-[a-z]+ +loop ns/ev +[0-9.]+ +[0-9.]+ " "$out/io.txt" || fail "no loop row for $column"
done
# The re-arm's two parts, on the poll(2) column: the calls and the iteration, each a figure
# of both sides, and together the whole re-arm (the iteration is what is left of it).
# Summed over the configurations; each printed figure is rounded to 0.05.
awk '$1 == "poll-posix" && $2 == "raw-poll" && $3 == "re-arm" { whole += $5 + $6; ++w }
     $1 == "poll-posix" && $2 == "raw-poll" && $4 == "it:" { part += $6 + $7; ++n }
     END { d = whole - part; e = 0.35 * w; if (w < 1 || n != 2 * w || d > e || d < -e) exit 1 }' "$out/io.txt" ||
  fail "the re-arm rows of poll-posix are not whole = calls + iteration: $(grep '^poll-posix .*re-arm\| it: ' "$out/io.txt")"
rows=$(grep -c '"workload"' "$out/io.json")
printed=$(grep -Ec '^[a-z-]+ +(raw-[a-z]+|c-ares\+epoll) ' "$out/io.txt")
[ "$rows" -gt 0 ] && [ "$rows" -eq "$printed" ] || fail "--json holds $rows rows, the table $printed"

# The wait clock: both sides' poll(2) and epoll_wait(2) calls, those of a re-arm round
# (nothing ready) apart from the loop phase's.
if [ -n "$wait_clock" ]; then
  LD_PRELOAD="$wait_clock" "$bench" io --pairs 1 --backend poll,poll-posix >"$out/clock.txt" 2>&1
  rc=$?
  cat "$out/clock.txt"
  [ $rc -le 1 ] || fail "ae-bench io with the wait clock exited $rc"
  for side in raw ae; do
    for ready in 0 '>0'; do
      grep -Eq "^poll +$side +[0-9]+-[0-9]+ +$ready +[1-9][0-9]* +[0-9.]+ +[0-9.]+$" "$out/clock.txt" ||
        fail "the wait clock has no poll row for $side, ready $ready"
      grep -Eq "^epoll_wait +$side +- +$ready +[1-9][0-9]* +[0-9.]+ +-$" "$out/clock.txt" ||
        fail "the wait clock has no epoll_wait row for $side, ready $ready"
    done
  done
fi

# Calibration: both slots run the baseline, no bar is checked, the exit status is 0.
aa_run aa timers
grep -q "A/A: the ae slot runs raw-libev" "$out/aa.txt" || fail "--aa did not run the baseline in the ae slot"
grep -q "^0 bars met, 0 missed" "$out/aa.txt" || fail "--aa checked a bar"

# The dns workload's A/A runs c-ares on raw epoll twice (its baseline is not a side).
if [ -x /usr/sbin/dnsmasq ]; then
  aa_run dns dns
  grep -q "A/A: the ae slot runs c-ares+epoll" "$out/dns.txt" || fail "dns --aa did not run the baseline twice"
  grep -Eq "^poll +c-ares\+epoll +queries/s +[0-9]+ +[0-9]+ " "$out/dns.txt" || fail "no dns row"
fi

# The tls workload's A/A runs OpenSSL on raw epoll twice (its baseline is not a side either),
# and `phase tls` counts the part it is asked for: the quick preset's 200 handshakes or 32 MiB.
"$bench" phase tls ae/poll --part handshake >"$out/phase.txt" 2>&1
rc=$?
if ! grep -q "built without ae::handle" "$out/phase.txt"; then
  [ $rc -eq 0 ] || fail "phase tls ae/poll --part handshake exited $rc: $(cat "$out/phase.txt")"
  grep -qx "events 200 handshake" "$out/phase.txt" || fail "phase tls --part handshake printed: $(cat "$out/phase.txt")"
  "$bench" phase tls openssl+epoll >"$out/phase.txt" 2>&1 || fail "phase tls openssl+epoll failed: $(cat "$out/phase.txt")"
  grep -qx "events 32768 KiB" "$out/phase.txt" || fail "phase tls printed: $(cat "$out/phase.txt")"
  aa_run tls tls
  grep -q "A/A: the ae slot runs openssl+epoll" "$out/tls.txt" || fail "tls --aa did not run the baseline twice"
  for metric in handshakes/s MiB/s; do
    grep -Eq "^poll +openssl\+epoll +$metric +[0-9.]+ +[0-9.]+ " "$out/tls.txt" || fail "no tls $metric row"
  done
fi

# The c10k workload's A/A runs libuv's echo server twice against the client process; its rows
# are the client's round trips/s, the server's CPU per round trip and heap per connection.
aa_run c10k c10k
if ! grep -q "built without libuv or ae::handle" "$out/c10k.txt"; then
  grep -q "A/A: the ae slot runs raw-libuv-stream" "$out/c10k.txt" || fail "c10k --aa did not run the baseline twice"
  for metric in "round trips/s" "srv cpu ns/rt" "heap B/conn"; do
    grep -Eq "^poll +raw-libuv-stream +$metric +[0-9.]+ +[0-9.]+ " "$out/c10k.txt" || fail "no c10k '$metric' row"
  done
fi

# The phase subcommand (bench/callgrind.sh's): the part measured decides what is counted.
# The quick preset's first io configuration re-arms 1000 watchers 50 times.
"$bench" phase io ae/poll --part rearm >"$out/phase.txt" 2>&1 || fail "phase io --part rearm failed"
grep -qx "events 50000 re-arm" "$out/phase.txt" || fail "phase io --part rearm printed: $(cat "$out/phase.txt")"
"$bench" phase io raw-poll >"$out/phase.txt" 2>&1 || fail "phase io failed"
grep -Eqx "events [1-9][0-9]* event" "$out/phase.txt" || fail "phase io printed: $(cat "$out/phase.txt")"
# The stream ping-pong's measured side (ae::handle), unless ae-bench was built without
# handle/: the quick preset's 5000 round trips are 10000 events.
"$bench" phase handle ae/poll >"$out/phase.txt" 2>&1
rc=$?
if ! grep -q "built without ae::handle" "$out/phase.txt"; then
  [ $rc -eq 0 ] || fail "phase handle ae/poll exited $rc: $(cat "$out/phase.txt")"
  grep -qx "events 10000 event (2 per round trip)" "$out/phase.txt" || fail "phase handle printed: $(cat "$out/phase.txt")"
fi

# Usage errors.
for args in "io --backend nope" "io --pairs 0" "io --preset huge" "frobnicate" "" \
    "phase io raw-poll --part create" "phase timers raw-libev --part rearm" "phase pingpong raw-epoll --part loop" \
    "phase handle ae/poll --part loop" "phase handle raw-epoll" "phase tls raw-epoll" "phase tls ae/poll --part loop"; do
  # shellcheck disable=SC2086
  "$bench" $args >/dev/null 2>&1
  rc=$?
  [ $rc -eq 2 ] || fail "'ae-bench $args' exited $rc, not 2"
done
echo "ok"
