#!/bin/sh
# make check: replays each fuzz target's seed corpus and the inputs that
# once crashed it (fuzz/regress/TARGET/) through the target's own code,
# built without libFuzzer. One TAP stream for all targets. Runs in the
# build directory (the programs) and reads $srcdir (the inputs).
src=${srcdir:-.}
out=$(mktemp)
status=0
for t in request money token cursor legacy auth; do
  if ! "./fuzz/replay_$t" "$src/fuzz/corpus/$t" "$src/fuzz/regress/$t" >> "$out"; then
    echo "not ok - replay_$t failed or crashed" >> "$out"
    status=1
  fi
done
cat "$out"
echo "1..$(grep -c '^\(not \)\?ok' "$out")"
rm -f "$out"
exit $status
