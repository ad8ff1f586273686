#!/bin/sh
# callgrind.sh: user-space instructions per event, anyevent over X against X used directly
# (DESIGN §7: "ae over libev / libevent / libuv: <= +60 instructions per event").
#
# Each side runs `ae-bench phase WORKLOAD SIDE` once under callgrind with collection toggled
# on only inside ae_bench_measured_phase() (by default the loop phase; setup, re-arm and
# teardown are not counted), and the collected Ir are divided by the events of that
# phase. For timers the measured phase is creating them (-t create) or running them (-t
# run), per timer; for io, -t rearm counts the re-arm rounds instead of the loop (per
# destroy + create, the iteration after each round included). The +60 bar is the io
# loop's (DESIGN §7's row "ae over X, io bench loop"), so timer, re-arm and ping-pong rows
# carry no verdict; ping-pong runs one event per iteration, so its figure is mostly the
# cost of an iteration. -w handle is the ping-pong over ae::handle, against
# raw-libuv-stream on every column; -w tls is the TLS workload against openssl+epoll on
# every column, per KiB of the bulk transfer (-t bulk) or per handshake (-t handshake).
#
# -m LL_BYTES adds callgrind's cache simulation (D1 32 KiB 8-way, last level LL_BYTES
# 16-way, 64-byte lines) and prints last-level data misses (reads + writes) per event
# too: where two sides run about as many instructions but not as fast, a working set
# that outgrows the cache shows there. Only user space is simulated, not the kernel.
#
# usage: bench/callgrind.sh [-b AE_BENCH] [-w io|pingpong|handle|timers|tls]
#                           [-t loop|rearm|create|run|bulk|handshake]
#                           [-p quick|full] [-c CONFIG] [-m LL_BYTES] [COLUMN...]
#   AE_BENCH  the ae-bench binary (default: ./bench/ae-bench, i.e. run from the build folder)
#   COLUMN    poll, poll-posix, libev, libevent, libuv (default: all)
# Exit status: 0 every over-X io loop row within +60, 1 one is not, 2 a run failed.
set -eu

bench=./bench/ae-bench
workload=io
preset=quick
config=0
part=
llc=
while getopts b:w:t:p:c:m:h opt; do
  case $opt in
    b) bench=$OPTARG ;;
    w) workload=$OPTARG ;;
    t) part=$OPTARG ;;
    p) preset=$OPTARG ;;
    c) config=$OPTARG ;;
    m) llc=$OPTARG ;;
    h) sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
case $workload in
  io | pingpong | handle | timers | tls) ;;
  *) echo "callgrind.sh: unknown workload $workload (io, pingpong, handle, timers, tls)" >&2; exit 2 ;;
esac
case $workload/$part in
  io/) part=loop ;;
  timers/) part=create ;;
  tls/) part=bulk ;;
  io/loop | io/rearm | timers/create | timers/run | pingpong/ | handle/ | tls/bulk | tls/handshake) ;;
  *) echo "callgrind.sh: -t $part is not a part of the $workload workload (io: loop, rearm; timers: create, run; tls: bulk, handshake)" >&2; exit 2 ;;
esac
case $llc in
  *[!0-9]*) echo "callgrind.sh: -m wants the last-level cache size in bytes, not '$llc'" >&2; exit 2 ;;
esac
[ $# -gt 0 ] || set -- poll poll-posix libev libevent libuv
[ -x "$bench" ] || { echo "callgrind.sh: no ae-bench at $bench (use -b)" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind is not installed" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cachesim=
[ -z "$llc" ] || cachesim="--cache-sim=yes --D1=32768,8,64 --LL=$llc,16,64"

# instructions SIDE -> prints "Ir LLmisses events" (LLmisses 0 without -m)
instructions() {
  out="$tmp/cg.$(echo "$1" | tr '/' '_')"
  extra=
  [ "$workload" = io ] && extra="--config $config --part $part"
  [ "$workload" = timers ] || [ "$workload" = tls ] && extra="--part $part"
  # shellcheck disable=SC2086
  if ! valgrind --tool=callgrind $cachesim --callgrind-out-file="$out" --toggle-collect=ae_bench_measured_phase \
      "$bench" phase "$workload" "$1" --preset "$preset" $extra >"$tmp/stdout" 2>"$tmp/stderr"; then
    echo "callgrind.sh: $1 failed:" >&2
    tail -5 "$tmp/stderr" >&2
    return 1
  fi
  # The "events:" line names the columns of "summary:" (or "totals:").
  counts=$(awk '/^events:/ { for (i = 2; i <= NF; ++i) name[i] = $i }
                /^(summary|totals):/ && !done { for (i = 2; i <= NF; ++i) v[name[i]] = $i; done = 1 }
                END { printf "%.0f %.0f", v["Ir"], v["DLmr"] + v["DLmw"] }' "$out")
  events=$(sed -n 's/^events \([0-9]*\).*/\1/p' "$tmp/stdout")
  echo "$counts $events"
}

# ping-pong (and handle): 2 events (one readable server, one readable client) per round trip.
unit=event
[ "$workload" = timers ] && unit=timer
[ "$part" = rearm ] && unit=re-arm
[ "$part" = bulk ] && unit=KiB
[ "$part" = handshake ] && unit=handshake
printf '%-11s %-16s %14s %14s %10s' column baseline "raw Ir/$unit" "ae Ir/$unit" delta
[ -z "$llc" ] || printf ' %14s %14s' "raw LLm/$unit" "ae LLm/$unit"
printf '  %s\n' bar
status=0
for column in "$@"; do
  case $column in
    poll) bases="raw-epoll raw-libev" ;;
    poll-posix) bases=raw-poll ;;
    libev | libevent | libuv) bases=raw-$column ;;
    *) echo "callgrind.sh: unknown column $column" >&2; exit 2 ;;
  esac
  # The built-in loop's timer baseline is libev (DESIGN §7).
  case $workload/$column in
    timers/poll | timers/poll-posix) bases=raw-libev ;;
    handle/*) bases=raw-libuv-stream ;;  # ae::handle against libuv's streams, every column
    tls/*) bases=openssl+epoll ;;
  esac
  if ! a=$(instructions "ae/$column"); then status=2; continue; fi
  for base in $bases; do
    if ! r=$(instructions "$base"); then status=2; continue; fi
    line=$(echo "$r $a" | awk '{ printf "%.1f %.1f %+.1f %.3f %.3f", $1 / $3, $4 / $6, $4 / $6 - $1 / $3, $2 / $3, $5 / $6 }')
    set -- $line
    verdict=-
    case $workload/$part/$column in
      timers/* | pingpong/* | handle/* | tls/* | io/rearm/*) ;;
      */libev | */libevent | */libuv)
        if awk "BEGIN { exit !($3 <= 60) }"; then
          verdict="<= +60 PASS"
        else
          verdict="<= +60 FAIL"
          [ "$status" != 0 ] || status=1
        fi ;;
    esac
    printf '%-11s %-16s %14s %14s %10s' "$column" "$base" "$1" "$2" "$3"
    [ -z "$llc" ] || printf ' %14s %14s' "$4" "$5"
    printf '  %s\n' "$verdict"
  done
done
exit "$status"
