#!/bin/sh
# t-pcsc.sh: the PC/SC layer (smartcard/pcsc.c) against a real pcscd with
# the vpcd virtual reader and a vicc virtual card: readers listed, card
# insertion and removal seen by the station's wait loop, the ATR read,
# timeouts, and pcscd gone.
# shellcheck source=tests/regress/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/regress/lib-pcsc.sh
. "$top_srcdir/tests/regress/lib-pcsc.sh"

TAB=$(printf '\t')
plan 19

pcsc_start

run "$CMCTL" card readers
is "card readers: the two readers of vpcd" "$(cut -f1 "$T/out" | sort | tr '\n' ,)" \
    "Virtual PCD 00 00,Virtual PCD 00 01,"
like "card readers: both empty" "$(cut -f2 "$T/out" | sort -u)" '^empty$'

t0=$(now_ms)
check_fail 13 'no card was inserted in 1000 ms' \
    "card wait with no card times out (exit 13)" \
    "$CMCTL" card wait --timeout 1
t1=$(now_ms)
assert "... after about the timeout" test $((t1 - t0)) -ge 900

# The station waits; the card is inserted while it does.
"$CMCTL" card wait --timeout 30 >"$T/wait.out" 2>"$T/wait.err" &
WAIT=$!
bg_track "$WAIT"
sleep 0.5
assert "the wait is still waiting before a card is inserted" kill -0 "$WAIT"
vicc_start
wait "$WAIT"
RC=$?
bg_untrack "$WAIT"
is "card wait returns when the card is inserted" "$RC" 0
is "... naming the reader, the card and its ATR" "$(cat "$T/wait.out")" \
    "Virtual PCD 00 00${TAB}card${TAB}$PCSC_ATR"

run "$CMCTL" card readers
like "card readers shows the card and its ATR" "$(cat "$T/out")" \
    "Virtual PCD 00 00${TAB}card${TAB}$PCSC_ATR"
like "... and the other reader empty" "$(cat "$T/out")" \
    "Virtual PCD 00 01${TAB}empty"
check "card wait with the card in returns at once" \
    "$CMCTL" card wait --timeout 1
check_fail 13 'no card was inserted' \
    "card wait on the other reader times out" \
    "$CMCTL" card wait --reader "Virtual PCD 00 01" --timeout 1
check_fail 5 'no reader "No such reader"' "card wait on an unknown reader" \
    "$CMCTL" card wait --reader "No such reader" --timeout 1
check_fail 13 'no card was removed' \
    "card wait --removed times out while the card stays" \
    "$CMCTL" card wait --removed --reader "Virtual PCD 00 00" --timeout 1

# The card is pulled while the station waits for that.
"$CMCTL" card wait --removed --reader "Virtual PCD 00 00" --timeout 30 \
    >"$T/wait.out" 2>"$T/wait.err" &
WAIT=$!
bg_track "$WAIT"
sleep 0.5
vicc_stop
wait "$WAIT"
RC=$?
bg_untrack "$WAIT"
is "card wait --removed returns when the card is removed" "$RC" 0
is "... naming the reader, now empty" "$(cat "$T/wait.out")" \
    "Virtual PCD 00 00${TAB}empty${TAB}"

# A second insertion is seen as the first was.
vicc_start
check "card wait sees a card inserted again" "$CMCTL" card wait --timeout 30
like "... with its ATR" "$(cat "$T/out")" "$PCSC_ATR"

pcsc_stop
check_fail 10 'pcscd\) is not running' \
    "without pcscd, card readers says so (exit 10)" "$CMCTL" card readers
check_fail 2 'card wait \[--reader NAME\]' "card wait takes no arguments" \
    "$CMCTL" card wait extra
done_testing
