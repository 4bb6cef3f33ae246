#!/bin/sh
# t-cards-tpm.sh: card personalization against a second, independent
# PKCS#11 module, tpm2-pkcs11 on a software TPM (swtpm), which really locks
# a PIN after wrong tries: personalize, lock the PIN, unblock refused while
# the TPM is in lockout, unblock after the TPM owner clears it.
# shellcheck source=tests/regress/lib.sh
. "$(dirname "$0")/lib.sh"

TAB=$(printf '\t')
M=/usr/lib/x86_64-linux-gnu/pkcs11/libtpm2_pkcs11.so
for p in swtpm tpm2_dictionarylockout pkcs11-tool; do
	command -v "$p" >/dev/null 2>&1 ||
	    die "$p is not installed (scripts/setup installs it)"
done
[ -f "$M" ] || die "tpm2-pkcs11 is not installed (scripts/setup installs it)"
plan 20

# A TPM of the test's own, on ports of its own.
PORT=$((23000 + $$ % 1000 * 2))
mkdir -p "$T/tpm" "$T/tpmstore"
swtpm socket --tpm2 --tpmstate dir="$T/tpm" \
    --server type=tcp,port="$PORT",bindaddr=127.0.0.1 \
    --ctrl type=tcp,port=$((PORT + 1)),bindaddr=127.0.0.1 \
    --flags not-need-init,startup-clear >"$T/swtpm.log" 2>&1 &
SWTPM=$!
bg_track "$SWTPM"
TPM2_PKCS11_TCTI="swtpm:host=127.0.0.1,port=$PORT"
TPM2TOOLS_TCTI=$TPM2_PKCS11_TCTI
TPM2_PKCS11_STORE=$T/tpmstore
TSS2_LOG=all+NONE
export TPM2_PKCS11_TCTI TPM2TOOLS_TCTI TPM2_PKCS11_STORE TSS2_LOG
_n=50
until tpm2_getcap properties-fixed >/dev/null 2>&1; do
	kill -0 "$SWTPM" 2>/dev/null || { diag_file "$T/swtpm.log"; die "swtpm exited"; }
	_n=$((_n - 1))
	[ "$_n" -gt 0 ] || die "swtpm does not answer"
	sleep 0.1
done
pass "swtpm answers"

printf 'pkcs11.1 = %s\n' "$M" >"$T/cm.conf"
CM_CONF=$T/cm.conf
export CM_CONF
# pkcs11-tool on tpm2-pkcs11, without its harmless first-use warning.
tp11() {
	pkcs11-tool --module "$M" "$@" 2>"$T/tp11.err"
	_tp=$?
	grep -v 'WARNING: Cannot prepare version query' "$T/tp11.err" >&2
	return "$_tp"
}

pki_init
mkroot Root ec:p256
export_ca Root "$T/root.pem"
mkproc Auth Root client
must cm token-procedure create -n "TPM card" --storage smartcard \
    --cert-procedure Auth --key-type ec:p256
must cm subject register -s "O=opencm test,CN=Alice Smith"

check "personalize the blank tpm2-pkcs11 token" \
    cm card personalize -P "TPM card" --subject "O=opencm test,CN=Alice Smith" \
    --label "TPM card 1"
CPIN=$(sed -n 's/^PIN: //p' "$T/out")
like "a new 8-digit user PIN" "$CPIN" '^[0-9]{8}$'
run cm card list
SER=$(field 1 <"$T/out")
like "card list: the TPM card, personalized" "$(cat "$T/out")" \
    "${TAB}personalized${TAB}IBM SW   TPM${TAB}TPM card 1${TAB}O=opencm test,CN=Alice Smith\$"

must tp11 --token-label "TPM card 1" --read-object --type cert --id 01 -o "$T/c.der"
openssl x509 -inform DER -in "$T/c.der" -out "$T/c.pem" 2>/dev/null
assert "the certificate on the TPM card verifies under Root" \
    openssl verify -x509_strict -CAfile "$T/root.pem" "$T/c.pem"
run tp11 --token-label "TPM card 1" --login --pin "$CPIN" --list-objects --type privkey
like "the key was made on the TPM, never extractable" "$(cat "$T/out")" \
    'Access: *sensitive, always sensitive, never extractable, local'
printf 'signed in the TPM\n' >"$T/data"
openssl dgst -sha256 -binary "$T/data" >"$T/data.sha256"
must tp11 --token-label "TPM card 1" --login --pin "$CPIN" --sign --id 01 \
    -m ECDSA --signature-format openssl -i "$T/data.sha256" -o "$T/data.sig"
openssl x509 -in "$T/c.pem" -noout -pubkey >"$T/c.pub"
assert "a signature by the card's key verifies with its certificate" \
    openssl dgst -sha256 -verify "$T/c.pub" -signature "$T/data.sig" "$T/data"

# --- the PIN locks --------------------------------------------------------

for i in 1 2 3; do
	run tp11 --token-label "TPM card 1" --login --pin 00000000 --list-objects
done
like "after three wrong PINs the TPM locks the PIN" "$(cat "$T/out" "$T/err")" \
    'CKR_PIN_LOCKED|CKR_PIN_INCORRECT'
run tp11 --token-label "TPM card 1" --login --pin "$CPIN" --list-objects --type privkey
like "the right PIN is refused now: locked" "$(cat "$T/out" "$T/err")" 'CKR_PIN_LOCKED'

cmdb_snapshot "$T/snap.before"
# (tpm2-pkcs11 itself writes its errors on stderr: cmctl's is the last line.)
run cm card unblock "$SER"
is "card unblock while the TPM is in lockout is refused (exit 9)" "$RC" 9
is "... saying that the SO PIN is locked too" "$(grep '^cmctl: ' "$T/err")" \
    'cmctl: token "TPM card 1": the SO PIN is locked'
cmdb_snapshot "$T/snap.after"
assert_same_snapshot "the refused unblock changes nothing" "$T/snap.before" \
    "$T/snap.after"
like "the refusal is in the audit log" \
    "$(sqlv "$CM_DB" "SELECT result || ' ' || action FROM audit ORDER BY seq DESC LIMIT 1")" \
    '^refused card.unblock$'

# The TPM's owner ends the lockout; the card's SO PIN unblocks the user PIN.
check "the TPM owner clears the dictionary-attack lockout" \
    tpm2_dictionarylockout --clear-lockout
check "card unblock now sets a new user PIN" cm card unblock "$SER"
NEW=$(sed -n 's/^PIN: //p' "$T/out")
isnt "the new PIN is another" "$NEW" "$CPIN"
run tp11 --token-label "TPM card 1" --login --pin "$NEW" --list-objects --type privkey
like "the new PIN opens the card" "$(cat "$T/out")" 'Private Key Object'
like "the audit log records the unblock" \
    "$(sqlv "$CM_DB" "SELECT result || ' ' || action || ' ' || object FROM audit WHERE action = 'card.unblock' ORDER BY seq DESC LIMIT 1")" \
    "^ok card.unblock $SER\$"

check "card revoke" cm card revoke "$SER" -r keyCompromise
check "audit verify" cm audit verify

kill "$SWTPM"
wait "$SWTPM" 2>/dev/null
bg_untrack "$SWTPM"
done_testing
