#!/bin/sh
# DESIGN §1: libanyevent links none of libev, libevent, libuv (they are dlopen'ed modules).
lib="$1"
needed=$(readelf -d "$lib" | grep NEEDED) || { echo "readelf failed on $lib"; exit 1; }
echo "$needed"
if echo "$needed" | grep -Eq 'libev\.|libevent|libuv'; then
  echo "FAIL: $lib needs an event-loop library"
  exit 1
fi
echo "ok: no libev/libevent/libuv in NEEDED"
