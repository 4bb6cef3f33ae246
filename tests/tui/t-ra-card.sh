#!/bin/sh
# t-ra-card.sh: cm-ra's Smart Card tab, the card station, driven through
# tmux: the wait-for-card loop driven by a real pcscd with the vpcd reader
# and a vicc card (reader and ATR shown), then a blank card (a SoftHSM2
# token) personalized for a subject registered there, its PIN read off the
# screen and checked on the card with pkcs11-tool, unblock, and revoke.
# shellcheck source=tests/regress/lib.sh
. "$(dirname "$0")/../regress/lib.sh"
# shellcheck source=tests/tui/lib-tui.sh
. "$top_srcdir/tests/tui/lib-tui.sh"
# shellcheck source=tests/regress/lib-hsm.sh
. "$top_srcdir/tests/regress/lib-hsm.sh"
# shellcheck source=tests/regress/lib-pcsc.sh
. "$top_srcdir/tests/regress/lib-pcsc.sh"

plan 25

hsm_init
printf 'slots.removable = true\n' >>"$SOFTHSM2_CONF"
hsm_conf
printf 'keystore.pin-file = %s\n' "$PIN" >>"$CM_CONF"
pki_init
mkroot Root ec:p256
export_ca Root "$T/root.pem"
mkproc Auth Root client
mkproc Enc Root email --key-usage digitalSignature,keyEncipherment
must cm token-procedure create -n "Employee card" --storage smartcard \
    --cert-procedure Auth --cert-procedure Enc --key-type ec:p256
pcsc_start

# A CMDB in setup mode: Esc at the login goes on without an officer.
tui_start 100 30 "$CMRA" -d "$CM_DB"
tui_see "cm-ra opens on its login dialog" "Log in"
tui_keys Escape
tui_see "the Smart Card tab" "5 Smart Card"
tui_keys 5
tui_see "the blank card of the PKCS#11 module is listed" "(blank card)"

# --- the station waits for a card -------------------------------------------

tui_keys w
tui_see "w waits for a card" "Insert a card into a reader."
sleep 0.5
tui_see "... and still waits while none is inserted" "Insert a card"
vicc_start
tui_see "the inserted card ends the wait: the reader and the ATR" \
    "Card in Virtual PCD 00 00, ATR $PCSC_ATR"
tui_see "the detail pane shows the reader" "Reader: Virtual PCD 00 00"

# --- register a subject and personalize ---------------------------------------

tui_keys s
tui_see "s registers a subject from the Smart Card tab" "Register subject"
tui_type "O=opencm test,CN=Carol Card"
tui_keys Tab
tui_type "carol@example.test"
tui_keys F2
tui_wait "Smart Card" >/dev/null
tui_keys 5
tui_keys p
tui_see "p opens the personalize form" "Personalize card"
tui_keys Tab
tui_type "O=opencm test,CN=Carol Card"
tui_keys F2
tui_see "the keys the card gets are listed before anything is done" \
    "Add key 2 (ec:p256): certificate procedure Enc"
tui_keys y
tui_see "the card is personalized; its PIN is shown once" "PIN: "
CPIN=$(sed -n 's/^.*PIN: \([0-9]*\).*$/\1/p' "$T/screen" | head -1)
like "... an 8-digit PIN" "$CPIN" '^[0-9]{8}$'
tui_keys Enter
tui_see "the status line shows the cmctl command" \
    "cmctl card personalize -P 'Employee card' --subject"
tui_see "the card is listed, personalized" "personalized"

run p11 --token-label "Carol Card" --login --pin "$CPIN" --list-objects
is "the PIN read off the screen opens the card: 2 keys" \
    "$(grep -c 'Private Key Object' "$T/out")" 2
must p11 --token-label "Carol Card" --read-object --type cert --id 01 \
    -o "$T/c.der"
openssl x509 -inform DER -in "$T/c.der" -out "$T/c.pem"
assert "the certificate on the card verifies under Root" \
    openssl verify -x509_strict -CAfile "$T/root.pem" "$T/c.pem"
is "the CMDB records the card for Carol" \
    "$(sqlv "$CM_DB" "SELECT c.state || ' ' || s.dn FROM cards c JOIN tokens t ON t.id = c.token_id JOIN subjects s ON s.id = t.subject_id")" \
    "personalized O=opencm test,CN=Carol Card"

# --- unblock, revoke ------------------------------------------------------------

tui_keys Home
tui_wait "Carol Card" >/dev/null
# The personalized card is the first row (blank cards have no serial).
tui_keys u
tui_see "u asks before unblocking" "Set a new user PIN"
tui_keys y
tui_see "the new PIN is shown once" "unblocked"
NPIN=$(sed -n 's/^.*PIN: \([0-9]*\).*$/\1/p' "$T/screen" | head -1)
tui_keys Enter
run p11 --token-label "Carol Card" --login --pin "$NPIN" --list-objects --type privkey
is "the new PIN opens the card" "$RC" 0
isnt "... and it is a new one" "$NPIN" "$CPIN"
tui_keys r
tui_see "r asks for a reason" "Revoke card"
tui_keys F2
tui_see "... and asks again" "every certificate of it"
tui_keys y
tui_see "the card is revoked" "revoked"
tui_keys q
tui_exited
is "q quits" "$TUI_RC" 0
pcsc_stop
done_testing
