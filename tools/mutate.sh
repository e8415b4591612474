#!/bin/sh
# tools/mutate.sh - mutation testing: plant each bug of tools/mutants.txt
# (or FILE) in turn, rebuild, run the cmocka programs, put the source back,
# and print which bugs no test noticed.  Slow (a rebuild per bug), so not
# part of `make check`; run it before resolving an issue that adds device
# logic, and name the score in the note.
#   tools/mutate.sh [FILE] [NAME...]     (needs a configured tree: tools/bootstrap.sh)
# Exit status: 0 when every bug was caught, 1 when some survived or a bug
# no longer applies or builds.
set -u
cd "$(dirname "$0")/.."
list=tools/mutants.txt
case "${1:-}" in *.txt) list=$1; shift ;; esac
[ -f Makefile ] || { echo "mutate: no Makefile: run tools/bootstrap.sh first" >&2; exit 2; }

build() { make -s -j"$(nproc)" check TESTS= >mutate-build.log 2>&1; }
# The cmocka programs (libtool wrappers); each finds the build's plugins
# itself (tests/unit/test-env.h).
programs() {
	for t in tests/unit/test_*; do
		case $t in *.c | *.h | *.o | *.log | *.trs) continue ;; esac
		[ -x "$t" ] && [ -f "$t" ] && echo "$t"
	done
}
# Prints the first program that fails, or nothing.
first_failure() {
	for t in $(programs); do
		timeout -k 5 120 "$t" >/dev/null 2>&1 || { echo "$t"; return; }
	done
}

build || { echo "mutate: the unmodified tree does not build (mutate-build.log)" >&2; exit 2; }
bad=$(first_failure)
[ -z "$bad" ] || { echo "mutate: $bad fails on the unmodified tree" >&2; exit 2; }

saved=""
restore() {
	[ -n "$saved" ] && cp "$saved.orig" "$saved" && rm -f "$saved.orig"
	saved=""
}
trap 'restore; build; exit 130' INT TERM

total=0 killed=0 survivors="" broken=""
while IFS= read -r line; do
	case $line in '' | '#'*) continue ;; esac
	name=${line%% :: *}; rest=${line#* :: }
	file=${rest%% :: *}; expr=${rest#* :: }
	if [ $# -gt 0 ]; then
		want=0; for n in "$@"; do [ "$n" = "$name" ] && want=1; done
		[ $want = 1 ] || continue
	fi
	total=$((total + 1))
	cp -p "$file" "$file.orig"; saved=$file
	sed -i -e "$expr" "$file"
	if cmp -s "$file" "$file.orig"; then
		printf '%-40s does not apply to %s (mend its expression)\n' "$name" "$file"
		broken="$broken $name"; restore; continue
	fi
	touch "$file"
	if ! build; then
		printf '%-40s does not build (mutate-build.log)\n' "$name"
		broken="$broken $name"; restore; continue
	fi
	by=$(first_failure)
	if [ -n "$by" ]; then
		killed=$((killed + 1)); printf '%-40s killed by %s\n' "$name" "${by#tests/unit/}"
	else
		survivors="$survivors $name"; printf '%-40s SURVIVED\n' "$name"
	fi
	restore; touch "$file"
done <"$list"
trap - INT TERM
build
rm -f mutate-build.log

scored=$((total - $(echo $broken | wc -w)))
echo "mutation score: $killed of $scored planted bugs caught ($((scored ? 100 * killed / scored : 0)) %)"
[ -z "$survivors" ] || echo "survivors:$survivors"
[ -z "$broken" ] || echo "not applied or not built:$broken"
[ -z "$survivors$broken" ]
