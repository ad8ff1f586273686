#!/bin/sh
# callgrind.sh: user-space instructions per event, anyevent over X against X used directly
# (DESIGN §7: "ae over libev / libevent / libuv: <= +60 instructions per event").
#
# Each side runs `ae-bench phase WORKLOAD SIDE` once under callgrind with collection toggled
# on only inside ae_bench_measured_phase() (the loop phase; setup, re-arm and teardown are
# not counted), and the collected Ir are divided by the events of that phase. For timers the
# measured phase is creating them (-t create) or running them (-t run), per timer; the
# +60 bar is the io loop's, so timer rows carry no verdict.
#
# usage: bench/callgrind.sh [-b AE_BENCH] [-w io|pingpong|timers] [-t create|run] [-p quick|full]
#                           [-c CONFIG] [COLUMN...]
#   AE_BENCH  the ae-bench binary (default: ./bench/ae-bench, i.e. run from the build folder)
#   COLUMN    poll, poll-posix, libev, libevent, libuv (default: all)
# Exit status: 0 every over-X column within +60, 1 one is not, 2 a run failed.
set -eu

bench=./bench/ae-bench
workload=io
preset=quick
config=0
part=create
while getopts b:w:t:p:c:h opt; do
  case $opt in
    b) bench=$OPTARG ;;
    w) workload=$OPTARG ;;
    t) part=$OPTARG ;;
    p) preset=$OPTARG ;;
    c) config=$OPTARG ;;
    h) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || set -- poll poll-posix libev libevent libuv
[ -x "$bench" ] || { echo "callgrind.sh: no ae-bench at $bench (use -b)" >&2; exit 2; }
command -v valgrind >/dev/null || { echo "callgrind.sh: valgrind is not installed" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# instructions SIDE -> prints "Ir events"
instructions() {
  out="$tmp/cg.$(echo "$1" | tr '/' '_')"
  extra=
  [ "$workload" = io ] && extra="--config $config"
  [ "$workload" = timers ] && extra="--part $part"
  # shellcheck disable=SC2086
  if ! valgrind --tool=callgrind --callgrind-out-file="$out" --toggle-collect=ae_bench_measured_phase \
      "$bench" phase "$workload" "$1" --preset "$preset" $extra >"$tmp/stdout" 2>"$tmp/stderr"; then
    echo "callgrind.sh: $1 failed:" >&2
    tail -5 "$tmp/stderr" >&2
    return 1
  fi
  ir=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$out" | head -1)
  [ -n "$ir" ] || ir=$(sed -n 's/^totals: *\([0-9]*\).*/\1/p' "$out" | head -1)
  events=$(sed -n 's/^events \([0-9]*\).*/\1/p' "$tmp/stdout")
  echo "$ir $events"
}

# ping-pong: 2 events (one readable server, one readable client) per round trip.
unit=event
[ "$workload" = timers ] && unit=timer
printf '%-11s %-13s %14s %14s %10s  %s\n' column baseline "raw Ir/$unit" "ae Ir/$unit" delta bar
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
  esac
  if ! a=$(instructions "ae/$column"); then status=2; continue; fi
  for base in $bases; do
    if ! r=$(instructions "$base"); then status=2; continue; fi
    line=$(echo "$r $a" | awk '{ r = $1 / $2; a = $3 / $4; printf "%.1f %.1f %+.1f", r, a, a - r }')
    set -- $line
    verdict=-
    case $workload/$column in
      timers/*) ;;
      */libev | */libevent | */libuv)
        if awk "BEGIN { exit !($3 <= 60) }"; then
          verdict="<= +60 PASS"
        else
          verdict="<= +60 FAIL"
          [ "$status" != 0 ] || status=1
        fi ;;
    esac
    printf '%-11s %-13s %14s %14s %10s  %s\n' "$column" "$base" "$1" "$2" "$3" "$verdict"
  done
done
exit "$status"
