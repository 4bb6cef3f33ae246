#!/bin/sh
# t-awb-first-run.sh: the README's first command on a machine without a
# CMDB: cm-awb on the default path offers to create the CMDB and run the
# bootstrap, shows the bootstrap officers' PINs once, and logs the first
# one in.  The whole run is under valgrind, which must find no error and
# no definite leak.
# shellcheck source=tests/regress/lib.sh
. "$(dirname "$0")/../regress/lib.sh"
# shellcheck source=tests/tui/lib-tui.sh
. "$top_srcdir/tests/tui/lib-tui.sh"

plan 14

DB=$XDG_DATA_HOME/opencm/cm.db
KIT=$XDG_DATA_HOME/opencm/boot-kit
VG=
if ldd "$CMAWB" 2>/dev/null | grep -q libasan; then
	# Built with --enable-sanitizers: ASan checks the run; valgrind
	# cannot run an ASan binary.
	diag "cm-awb is built with AddressSanitizer: no valgrind"
	ASAN=1
elif command -v valgrind >/dev/null 2>&1; then
	VG="valgrind -q --leak-check=full --errors-for-leak-kinds=definite \
	    --error-exitcode=99 --log-file=$T/valgrind.log"
else
	diag "valgrind is not installed: the run is not checked for leaks"
fi

tui_start 80 24 env -u CM_DB -u CM_CONF $VG "$CMAWB"
tui_see "no CMDB: cm-awb offers to create one" "There is no CMDB at" 60
tui_see "... at the default path" "$DB"
tui_keys y
tui_see "the bootstrap dialog" "Boot kit directory" 30
tui_keys C-u
tui_type "C=SE,O=First Run"
tui_keys F2
tui_see "a new key store passphrase is asked twice" "New key store passphrase" 30
tui_type "a long passphrase"
tui_keys Tab
tui_type "a long passphrase"
tui_keys Enter
tui_see "the bootstrap officers and their PINs are shown once" \
    "Bootstrap officer 2: boot-officer-2.p12" 120
pin1=$(grep -o 'PIN: [A-Za-z0-9]*' "$T/screen" | sed -n 1p | cut -d' ' -f2)
pin2=$(grep -o 'PIN: [A-Za-z0-9]*' "$T/screen" | sed -n 2p | cut -d' ' -f2)
isnt "two PINs were shown" "$pin1:$pin2" ":"
assert "the first PIN opens the first token" \
    openssl pkcs12 -in "$KIT/boot-officer-1.p12" -passin "pass:$pin1" \
    -nokeys -out "$T/o1.pem"
is "the tokens are private (0600)" \
    "$(stat -c %a "$KIT/boot-officer-1.p12" "$KIT/boot-officer-2.p12" |
    tr '\n' ' ')" "600 600 "
tui_keys Enter
tui_see "the login dialog has the first token filled in" \
    "Officer token  $XDG_DATA_HOME/opencm/boot" 30
tui_keys Tab
tui_type "$pin1"
tui_keys Enter
tui_see "the first bootstrap officer is logged in" \
    "Officer Bootstrap officer 1 (Bootstrap officers)" 60
tui_see "... and sees the Boot CA" "Boot CA key" 30
run "$CMCTL" -d "$DB" audit verify
is "the new CMDB's audit log verifies (cmctl audit verify)" "$RC" 0
like "the Boot CA is in the new CMDB" "$("$CMCTL" -d "$DB" ca list)" \
    "Boot CA"

tui_keys q
n=600
while [ ! -s "$T/tui.rc" ] && [ $n -gt 0 ]; do
	sleep 0.1
	n=$((n - 1))
done
tui_exited
if [ -n "$VG" ]; then
	is "valgrind finds no error and no definite leak" "$TUI_RC" 0
	[ "$TUI_RC" = 0 ] || diag_file "$T/valgrind.log" 60
elif [ -n "${ASAN:-}" ]; then
	is "AddressSanitizer finds no error and no leak" "$TUI_RC" 0
else
	skip "valgrind finds no error" "no valgrind"
fi
tui_stop
done_testing
