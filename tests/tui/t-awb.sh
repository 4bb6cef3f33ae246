#!/bin/sh
# t-awb.sh: cm-awb driven through tmux on a CMDB after the bootstrap
# ceremony: login (a wrong PIN first), a CA key and a CA created through
# dialogs and signed by two officers at once, a change left pending and
# signed later by the second officer, a distribution rule made and
# attached with its queue shown, the audit log filter and verify,
# and a resize from 80x24 to 200x50 and back.
# shellcheck source=tests/regress/lib.sh
. "$(dirname "$0")/../regress/lib.sh"
# shellcheck source=tests/tui/lib-tui.sh
. "$top_srcdir/tests/tui/lib-tui.sh"

plan 75

B=$T/boot
run env CMCTL="$CMCTL" "$top_srcdir/scripts/bootstrap-ceremony" "$B" \
    "C=SE,O=AWB Test"
[ "$RC" -eq 0 ] || die "the bootstrap ceremony failed"
cmb() { "$CMCTL" -c "$B/cm.conf" -d "$B/cm.db" "$@"; }
PIN1=$(cat "$B/officer-1.p12.pin")
PIN2=$(cat "$B/officer-2.p12.pin")

# A second officer logs in to sign: the dialog that asks who signs is
# answered with its first choice, then the second officer's token and PIN.
second_officer() {
	tui_wait "Who signs the change?" || return 1
	tui_keys Enter
	tui_wait "Second officer: log in to sign" || return 1
	tui_type "$B/officer-${1:-2}.p12"
	tui_keys Tab
	if [ "${1:-2}" = 1 ]; then tui_type "$PIN1"; else tui_type "$PIN2"; fi
	tui_keys Enter
}

tui_start 80 24 "$CMAWB" -c "$B/cm.conf" -d "$B/cm.db"
tui_see "cm-awb opens on its login dialog" "Log in"
tui_type "$B/officer-1.p12"
tui_keys Tab
tui_type "not-the-pin"
tui_keys Enter
tui_see "a wrong PIN says so" "wrong PIN"
tui_see "... and the login dialog stays" "Log in"
assert "... and no officer is logged in" grep -q "No officer logged in" "$T/screen"

# The token path is kept; the PIN field is empty again.
tui_keys Tab
tui_type "$PIN1"
tui_keys Enter
tui_see "the header names the officer and the profile" \
    "Officer Officer 1 (Security officers)"
tui_see "the tree of the workbench" "Certificate procedures"

# --- a CA key and a CA, two officers signing at once -------------------------------

tui_keys n
tui_see "n opens the new key dialog" "New CA key"
tui_type "Root 2026"
tui_keys Tab Right F2
second_officer
tui_see "the status line shows the cmctl command" \
    "$ cmctl key create -n 'Root 2026' -t ec:p384"
run cmb key show "Root 2026"
like "the key is in the Key Registry" "$(cat "$T/out")" "ec:p384"
id=$(sqlite3 "$B/cm.db" "SELECT max(id) FROM changes WHERE type = 'key.create'")
run cmb change show "$id"
like "two officers signed the key change" "$(cat "$T/out")" \
    "Officer 1.*Officer 2|Officer 2.*Officer 1"
tui_see "the header names one officer again" "Officer Officer 1 (Security"
if grep -q "Officer 2" "$T/screen"; then
	fail "the second officer is logged out after signing"
else
	pass "the second officer is logged out after signing"
fi

tui_keys Down Down Down
tui_see "Down in the tree reaches CAs" "Name             State    Issuer"
tui_keys n
tui_see "n opens the CA Request" "CA Request"
tui_type "Test Root"
tui_keys Tab R Tab Tab
tui_type "SE"
tui_keys Tab
tui_type "Test Org"
tui_keys Tab
tui_type "Test Root CA"
tui_keys Tab Tab
tui_type "abc"
tui_keys Tab
tui_see "a bad path length is refused inline" "a number from -1"
tui_keys C-u
tui_type "1"
tui_keys F2
second_officer
tui_see "the CA is made: its cmctl command" "$ cmctl ca create -n 'Test Root'"
run cmb ca export "Test Root"
cp "$T/out" "$T/root.pem"
assert "the root certificate verifies (openssl verify -x509_strict)" \
    openssl verify -x509_strict -CAfile "$T/root.pem" "$T/root.pem"
like "its subject is from the dialog's fields" \
    "$(openssl x509 -in "$T/root.pem" -noout -subject -nameopt RFC2253)" \
    "CN=Test Root CA,O=Test Org,C=SE"
like "... with the path length asked for" \
    "$(openssl x509 -in "$T/root.pem" -noout -ext basicConstraints)" \
    "pathlen:1"
like "... signed by the key made before" \
    "$(cmb ca show "Test Root")" "Root 2026"
tui_keys End m
tui_see "m on a CA opens its CRL settings" "CRL settings of CA \"Test Root\""
tui_keys C-u
tui_type "12h"
tui_keys Tab C-u
tui_type "1h"
tui_keys F2
second_officer
tui_see "the settings change: the cmctl command" \
    "$ cmctl ca modify 'Test Root' --crl-interval 12h --delta-interval 1h"
like "... which ca show shows" "$(cmb ca show "Test Root")" \
    "Delta CRL interval: 3600s"

# --- a change left pending, signed later by the second officer -------------------

tui_keys Down Down Down
tui_see "the tree has Distribution rules" "No distribution rules"
tui_keys n
tui_see "n there opens the Distribution Rule Request" \
    "Distribution Rule Request"
tui_keys Escape
tui_keys Down
tui_see "... and the Publication queue under them" \
    "Nothing waits: every publication was delivered"
tui_keys Down
tui_see "the tree reaches Officer profiles" "Permissions"
tui_keys n
tui_see "the Officer Profile Request" "Officer Profile Request"
tui_type "Auditors"
tui_keys Tab
tui_type "audit"
tui_keys F2
tui_wait "Who signs the change?"
tui_keys Down Enter
tui_see "the change is pending" "is pending: a second officer signs it"
run sqlite3 "$B/cm.db" "SELECT count(*) FROM changes WHERE state = 'pending'"
is "one change waits in the CMDB" "$(cat "$T/out")" "1"
check_fail 5 "not found" "the profile does not exist yet" \
    cmb officer-profile show Auditors

tui_keys L
tui_wait "Log in"
tui_type "$B/officer-2.p12"
tui_keys Tab
tui_type "$PIN2"
tui_keys Enter
tui_see "officer 2 logs in" "Officer Officer 2 (Security officers)"
tui_keys Down Down
tui_see "Pending changes lists the change" "officer-profile.create"
tui_keys s
tui_see "sign shows the exact document first" "The document you sign"
tui_see "... the canonical XML" "<change"
tui_keys q
tui_see "... then asks" "Sign this change"
tui_keys y
tui_see "the change is signed" "$ cmctl change sign"
run cmb officer-profile show Auditors
like "the profile exists now" "$(cat "$T/out")" "audit"

# --- modify: the profile's permissions, officer 1 signing second ------------------

tui_keys Up Up
tui_see "back at Officer profiles" "Auditors"
tui_keys Home m
tui_see "m opens the modify dialog, filled in" "Modify officer profile \"Auditors\""
tui_see "... with the permissions now" "audit"
tui_keys Down C-u
tui_type "audit,revoke"
tui_keys F2
second_officer 1
tui_see "the modification's cmctl command" \
    "$ cmctl officer-profile modify -n Auditors --permissions audit,revoke"
like "the profile has the new permissions" \
    "$(cmb officer-profile show Auditors)" "audit,revoke"

# --- a token procedure whose certificate procedure has blanks in its name -------

tui_keys Up Up Up
tui_see "the tree reaches Token procedures" "Storage    PIN"
tui_keys n
tui_see "the Token Procedure Request" "Token Procedure Request"
tui_type "Soft users"
tui_keys Tab Tab Tab Tab Tab Tab Tab
tui_type "Officer certificates"
tui_keys F2
second_officer 1
tui_see "created: its cmctl command" \
    "$ cmctl token-procedure create -n 'Soft users'"
like "cmctl shows the token procedure with it" \
    "$(cmb token-procedure show "Soft users")" \
    "Certificate procedure: Officer certificates"

# --- a distribution rule: the request, attach, the queue ---------------------

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/tlsca.key" -subj "/CN=Web TLS CA" -days 30 \
    -out "$T/tlsca.pem" >/dev/null 2>&1 || die "openssl req failed"
tui_keys Down
tui_wait "No distribution rules"
tui_keys n
tui_wait "Distribution Rule Request"
tui_type "web"
tui_keys Tab
tui_type "https://127.0.0.1:9/pki/"
tui_keys Tab Tab
tui_type "crl,ca-cert"
tui_keys Tab Tab
tui_type "$T/tlsca.pem"
tui_keys F2
second_officer 1
tui_see "the rule is made: its cmctl command" \
    "$ cmctl dist-rule create -n web --url https://127.0.0.1:9/pki/"
like "cmctl shows the rule" "$(cmb dist-rule show web)" \
    "Publishes: crl,ca-cert"
tui_keys a
tui_wait "Attach distribution rule"
tui_type "Test Root"
tui_keys F2
second_officer 1
tui_see "attached: its cmctl command" \
    "$ cmctl dist-rule attach web --ca 'Test Root'"
tui_see "the detail counts the rule's queue" "Queue:              pending 1"
tui_keys Down
tui_see "the Publication queue shows what waits" "Test_Root.crt"
# Nobody listens on port 9: with one attempt allowed the item fails.
printf 'da.max-attempts = 1\n' >>"$B/cm.conf"
run "$(dirname "$CMCTL")/cm-da" -c "$B/cm.conf" -d "$B/cm.db" --once
is "cm-da --once: the delivery fails (exit 1)" "$RC" 1
tui_keys F5
tui_see "F5: the queue shows the item failed" \
    "1      failed    web            Test_Root.crt"
tui_see "... and its detail the reason" "Last error:   Failed to connect"
tui_keys r
tui_see "r puts it back in the queue: the cmctl command" \
    "$ cmctl publish retry 1"
is "... and it is pending again" "$(sqlite3 "$B/cm.db" "SELECT state FROM \
    publications")" pending
tui_keys Down

# --- the audit log: filter and verify -----------------------------------------------

tui_keys Down Down Down Down
tui_see "the audit log" "Seq    Time"
tui_keys /
tui_see "the filter dialog" "Filter the audit log"
tui_keys Tab
tui_type "ca."
tui_keys F2
tui_see "the filter's cmctl command" "$ cmctl audit list --action ca."
tui_see "ca.create records are listed" "ca.create"
if awk 'NR > 2 && NR < 12' "$T/screen" | grep -q "key.create"; then
	fail "other actions are filtered out"
else
	pass "other actions are filtered out"
fi
tui_keys v
tui_see "verify: the log verifies" "The audit log verifies"
tui_keys Enter
tui_wait_line 24 "Help" || :

# --- resize --------------------------------------------------------------------------

tui_resize 200 50
tui_wait_line 50 "q Quit" || :
tui_screen >/dev/null
is "the screen is 50 lines after the resize" "$(wc -l <"$T/screen")" 50
like "the key hints are on the last line" "$(sed -n 50p "$T/screen")" \
    "\? Help  q Quit"
like "the header shows the CMDB at 200 columns" "$(sed -n 1p "$T/screen")" \
    "$B/cm.db"
tui_resize 80 24
tui_wait_line 24 "Help" || :
tui_screen >/dev/null
like "back at 80x24 the hints are on line 24" "$(sed -n 24p "$T/screen")" \
    "Help"

tui_sgr
assert "the header is in colour (white on blue)" grep -q '44m' "$T/sgr"
tui_keys q
tui_exited
is "q quits with status 0" "$TUI_RC" 0
tui_stop

# --- verify on a tampered audit log names the first bad record -----------------

sqlite3 "$B/cm.db" ".backup '$T/tampered.db'" || die "backup failed"
for tr in $(sqlite3 "$T/tampered.db" "SELECT name FROM sqlite_master WHERE \
    type = 'trigger' AND tbl_name = 'audit'"); do
	sqlite3 "$T/tampered.db" "DROP TRIGGER \"$tr\"" || die "drop $tr"
done
sqlite3 "$T/tampered.db" "UPDATE audit SET detail = 'x' WHERE seq = 5" ||
    die "tamper failed"
tui_start 80 24 "$CMAWB" -c "$B/cm.conf" -d "$T/tampered.db"
tui_wait "Log in"
tui_type "$B/officer-1.p12"
tui_keys Tab
tui_type "$PIN1"
tui_keys Enter
tui_wait "Officer Officer 1"
tui_keys t
tui_wait "Tools"
tui_keys Down Down Enter
tui_see "Tools, Verify audit log: it does not verify" "does NOT verify"
tui_see "... and names the first bad record" "First bad record: 5"
tui_keys Enter q
tui_exited
tui_stop

# --- NO_COLOR: reverse and bold only ------------------------------------------------

tui_start 80 24 env NO_COLOR=1 "$CMAWB" -c "$B/cm.conf" -d "$B/cm.db"
tui_see "with NO_COLOR cm-awb starts as before" "Log in"
tui_sgr
refute "... with no colour on the screen" \
    grep -Eq '\[([0-9;]*;)?(3[0-7]|4[0-7]|38;5|48;5)(;[0-9;]*)?m' "$T/sgr"
assert "... the header in reverse video" grep -q '7m' "$T/sgr"
tui_keys Escape
tui_exited
is "Esc at the login of a four-eye CMDB quits with status 0" "$TUI_RC" 0
tui_stop
done_testing
