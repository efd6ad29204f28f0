#!/usr/bin/env bash
# Run the kernel's checkpatch.pl over kwasm's C files. checkpatch is not in
# the headers packages: take it (and the data files it reads) out of Debian's
# linux-source package once, into the private cache.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
dir=${KWASM_CACHE:-$top/.cache}/checkpatch

if [ ! -f "$dir/scripts/checkpatch.pl" ]; then
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	pkg=$(apt-cache depends linux-source | sed -n 's/^ *Depends: \(linux-source-[0-9.]*\)$/\1/p' | head -n1)
	[ -n "$pkg" ] || { echo "checkpatch: cannot resolve linux-source" >&2; exit 1; }
	(cd "$tmp" && apt-get download "$pkg" >/dev/null 2>&1)
	dpkg-deb --fsys-tarfile "$tmp"/*.deb | tar -x -C "$tmp" --wildcards './usr/src/*.tar.*'
	mkdir -p "$dir.new"
	tar -x -C "$dir.new" --strip-components=1 -f "$tmp"/usr/src/*.tar.* --wildcards \
		'*/scripts/checkpatch.pl' '*/scripts/spelling.txt' '*/scripts/const_structs.checkpatch'
	rm -rf "$dir" && mv "$dir.new" "$dir"
fi

cd "$top"
files=$(git ls-files 'shim/*.[ch]' 'wasm3-kernel/*.[ch]' 'wasm3-kernel/include/*.h' 'include/*.h' 'include/uapi/*.h' \
	'tests/bench/ebpf/*.[ch]')
# shellcheck disable=SC2086
perl "$dir/scripts/checkpatch.pl" --no-tree --terse --show-types -f $files
