#!/bin/sh
# Installs the build into a scratch prefix and builds the README's example against it with
# pkg-config, as a program outside the tree would. Usage: install_and_build.sh BUILD_DIR SRC_DIR
set -eu
build=$1 src=$2
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
meson install -C "$build" --destdir "$prefix" --quiet >/dev/null
root="$prefix$(meson introspect "$build" --buildoptions | python3 -c 'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"))')"
pc=$(dirname "$(find "$root" -name anyevent.pc | head -1)")
for f in "$pc"/anyevent*.pc; do sed -i "s|^prefix=.*|prefix=$root|" "$f"; done
sed -n '/^```cpp/,/^```$/p' "$src/README.md" | sed '1d;$d' > "$prefix/example.cpp"
flags=$(PKG_CONFIG_PATH="$pc" pkg-config --cflags --libs anyevent)
# shellcheck disable=SC2086
c++ -std=c++20 -Wall -Wextra -Werror "$prefix/example.cpp" -o "$prefix/example" $flags
libdir=$(PKG_CONFIG_PATH="$pc" pkg-config --variable=libdir anyevent)
out=$( (sleep 0.3; echo hello) | LD_LIBRARY_PATH="$libdir" "$prefix/example")
echo "$out" | tail -2
echo "$out" | grep -q "exit 0" || { echo "FAIL: the README example did not finish as expected"; exit 1; }
echo "ok: the README example builds against the installed library and runs"
# The ae::handle example (a c++ block: it needs a server, so it is built, not run).
sed -n '/^```c++/,/^```$/p' "$src/README.md" | sed '1d;$d' > "$prefix/handle_example.cpp"
[ -s "$prefix/handle_example.cpp" ] || { echo "FAIL: no ae::handle example in the README"; exit 1; }
flags=$(PKG_CONFIG_PATH="$pc" pkg-config --cflags --libs anyevent-handle)
# shellcheck disable=SC2086
c++ -std=c++20 -Wall -Wextra -Werror "$prefix/handle_example.cpp" -o "$prefix/handle_example" $flags
echo "ok: the README's ae::handle example builds against the installed anyevent-handle"
