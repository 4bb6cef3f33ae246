#!/bin/sh
# t-bootstrap-hsm.sh: the bootstrap ceremony's HSM variant with officer
# smart cards (SoftHSM2 tokens as the HSM and as the cards): the Officer
# and system CA key on the HSM; TLS, PIN encryption and KEK keys prepared
# with cm-hwsetup; officers logging in with their cards.  And cm-hwsetup's
# own refusals.
# shellcheck source=tests/regress/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/regress/lib-hsm.sh
. "$top_srcdir/tests/regress/lib-hsm.sh"

HWSETUP=$(dirname "$CMCTL")/cm-hwsetup
plan 42

hsm_init
D=$T/ceremony
hsm_ceremony "$D"
pass "the HSM ceremony with officer cards runs to its end"

unset CM_DB
c() { "$CMCTL" -c "$D/cm.conf" "$@"; }
CARDS="--officer pkcs11:token=Officer%201%20card --officer-pin-file $D/card-1.pin --officer pkcs11:token=Officer%202%20card --officer-pin-file $D/card-2.pin"

check "audit verify after the ceremony" c audit verify
run c key show "Officer and system CA key"
like "the Officer and system CA key is on the HSM" \
    "$(sed -n 's/^Device: //p' "$T/out")" '^pkcs11:token=CA%20HSM;serial=[0-9a-f]+;id=(%[0-9A-F]{2}){16};object=Officer%20and%20system%20CA%20key$'
c ca export "Officer and system CA" -o "$T/oca.pem" >/dev/null 2>&1

# --- the officers' cards, read with pkcs11-tool ------------------------------

for i in 1 2; do
	must p11 --token-label "Officer $i card" --read-object --type cert \
	    --id 01 -o "$T/card-$i.der"
	openssl x509 -inform DER -in "$T/card-$i.der" -out "$T/card-$i.pem"
	assert "the certificate on card $i verifies under the Officer and system CA" \
	    openssl verify -x509_strict -partial_chain -CAfile "$T/oca.pem" \
	    "$T/card-$i.pem"
	is "the certificate on card $i is Officer $i's" \
	    "$(openssl x509 -in "$T/card-$i.pem" -noout -subject)" \
	    "subject=C = SE, O = Example, CN = Officer $i"
	run p11 --token-label "Officer $i card" --login --pin \
	    "$(cat "$D/Officer $i card.pin")" --list-objects --type privkey
	like "the key on card $i was made there, never extractable" \
	    "$(cat "$T/out")" 'Access: *sensitive, always sensitive, never extractable, local'
done

run c change list
like "the test change was signed by the two card officers" \
    "$(grep 'Registration officers' "$T/out")" 'Officer 1.*Officer 2|Officer 2.*Officer 1'

# --- the HSM's system keys ---------------------------------------------------

must p11 --token-label "CA HSM" --read-object --type cert --id 5401 \
    -o "$T/tls.der"
openssl x509 -inform DER -in "$T/tls.der" -out "$T/tls.pem"
assert "the TLS certificate on the HSM verifies under the Officer and system CA" \
    openssl verify -x509_strict -partial_chain -CAfile "$T/oca.pem" "$T/tls.pem"
like "the TLS certificate is for localhost" \
    "$(openssl x509 -in "$T/tls.pem" -noout -ext subjectAltName)" 'DNS:localhost'
run p11 --token-label "CA HSM" --login --pin 1111 --list-objects
cp "$T/out" "$T/hsm.objects"
like "the KEK is an AES key on the HSM" "$(cat "$T/hsm.objects")" \
    'Secret Key Object; AES length 32'
is "every private and secret key on the HSM is never extractable" \
    "$(grep -c 'never extractable' "$T/hsm.objects")" 4
run "$HWSETUP" -libname "$P11MOD" -token "CA HSM" -pinfile "$D/CA HSM.pin" -list
like "cm-hwsetup -list shows the PIN encryption certificate beside its key" \
    "$(cat "$T/out")" 'certificate	5402	PIN encryption		C=SE,O=Example,CN=PIN encryption'

# --- logging in with cards ---------------------------------------------------

# shellcheck disable=SC2086
check "two card officers sign a policy change together" \
    c $CARDS officer-profile create -n "Auditors" --permissions audit
printf '9999\n' >"$T/bad.pin"
cmdb_snapshot "$T/snap.before" "$D/cm.db"
check_fail 9 'officer login: token "Officer 1 card": wrong PIN' \
    "a card with a wrong PIN is refused (exit 9)" \
    c --officer pkcs11:token=Officer%201%20card --officer-pin-file "$T/bad.pin" \
    officer-profile create -n "Nobody" --permissions audit
check_fail 10 'token "Officer 3 card" is not present' \
    "a card that is not inserted is refused (exit 10)" \
    c --officer pkcs11:token=Officer%203%20card --officer-pin-file "$T/bad.pin" \
    officer-profile create -n "Nobody" --permissions audit
check_fail 9 'the card "CA HSM" holds no certificate of an officer' \
    "a token without an officer's certificate is refused (exit 9)" \
    c --officer pkcs11:token=CA%20HSM --officer-pin-file "$D/CA HSM.pin" \
    officer-profile create -n "Nobody" --permissions audit
check_fail 9 'already logged in: two officers are two people' \
    "the same card twice is refused" \
    c --officer pkcs11:token=Officer%201%20card --officer-pin-file "$D/card-1.pin" \
    --officer pkcs11:token=Officer%201%20card --officer-pin-file "$D/card-1.pin" \
    officer-profile create -n "Nobody" --permissions audit
cmdb_snapshot "$T/snap.after" "$D/cm.db"
assert_same_snapshot "refused card logins change nothing" "$T/snap.before" \
    "$T/snap.after"
# Not digits: a PIN of hex digits may be found in a serial or a digest.
run c --officer 'pkcs11:token=Officer%201%20card;pin-value=Sesame-pin' \
    officer-profile create -n "Nobody" --permissions audit
is "a PIN written in the card's URI is refused (exit 3)" "$RC" 3
is "... and it is nowhere in the audit log" \
    "$(sqlite3 "$D/cm.db" "SELECT count(*) FROM audit WHERE object LIKE \
    '%Sesame%' OR detail LIKE '%Sesame%'")" 0
# As in cm-awb and cm-ra: log in, out, and in again in one process.  The
# card stays logged in for the process; the second PIN must still count.
RELOGIN=$top_builddir/tests/helpers/relogin
run env CM_CONF="$D/cm.conf" "$RELOGIN" "$D/cm.db" \
    pkcs11:token=Officer%201%20card 2222 9999
is "a card officer logs in in a long-running program" \
    "$(sed -n 1p "$T/out")" ok
is "... and after logging out, a wrong PIN does not log in again" \
    "$(sed -n 2p "$T/out")" 'officer login: token "Officer 1 card": wrong PIN'
run env CM_CONF="$D/cm.conf" "$RELOGIN" "$D/cm.db" \
    pkcs11:token=Officer%201%20card 2222 2222
is "... while the right PIN does" "$(cat "$T/out" | tr '\n' ' ')" "ok ok "

# --- cm-hwsetup refusals ----------------------------------------------------

hw() { "$HWSETUP" -libname "$P11MOD" -token "CA HSM" -pinfile "$D/CA HSM.pin" "$@"; }
hwfail() {
	_hf_s=$1
	_hf_p=$2
	_hf_d=$3
	shift 3
	run hw "$@"
	if [ "$RC" -eq "$_hf_s" ] && [ "$(awk 'END { print NR }' "$T/err")" -eq 1 ] &&
	    grep -Eq "^cm-hwsetup: .*$_hf_p" "$T/err"; then
		pass "$_hf_d"
	else
		fail "$_hf_d"
		_show_run hw "$@"
	fi
}
hwfail 2 '-id ID is required' "cm-hwsetup: -genrsa without -id (exit 2)" \
    -genrsa 2048
hwfail 6 'a key with id 5401 exists already' \
    "cm-hwsetup: a key id in use is refused (exit 6)" -id 5401 -genec P-256
hwfail 4 'the certificate is not for the key with id 5402' \
    "cm-hwsetup: a certificate for another key is refused (exit 4)" \
    -id 5402 -label x -install "$T/tls.pem"
hwfail 6 'a certificate with id 5401 is installed already' \
    "cm-hwsetup: a second certificate for a key is refused (exit 6)" \
    -install "$T/tls.pem"
hwfail 2 'AES-256, AES-128 or DES3' "cm-hwsetup: an unknown secret key type" \
    -id 77 -genkey RC4
hwfail 3 'curve "P-999": unknown' "cm-hwsetup: an unknown curve (exit 3)" \
    -id 78 -genec P-999
hwfail 3 'subject' "cm-hwsetup: a bad DN for -genreq (exit 3)" \
    -id 5401 -genreq "no equals sign"
hwfail 2 'one action at a time' "cm-hwsetup: two actions" -id 79 -genec P-256 \
    -genkey AES-128
run "$HWSETUP" -libname "$P11MOD" -token "No such HSM" -pin 1 -id 01 -genec P-256
is "cm-hwsetup: an absent token (exit 10)" "$RC" 10

# --- cm-hwsetup does what it says --------------------------------------------

check "cm-hwsetup -genec P-384 with -slot" \
    "$HWSETUP" -libname "$P11MOD" -slot "$(softhsm2-util --show-slots |
    awk '/^Slot [0-9]/ { s = $2 } /Label: *CA HSM *$/ { print s }')" \
    -pinfile "$D/CA HSM.pin" -id 90 -label p384 -genec P-384
check "cm-hwsetup -genreq for it, with key usages" \
    hw -id 90 -keyusage digitalSignature,keyAgreement -genreq "cn=Test,o=Example" \
    -out "$T/p384.csr"
assert "openssl verifies the request's signature, made on the HSM" \
    openssl req -in "$T/p384.csr" -noout -verify
like "the request asks for the key usages" \
    "$(openssl req -in "$T/p384.csr" -noout -text)" 'Digital Signature, Key Agreement'
like "the request's subject is the DN given" \
    "$(openssl req -in "$T/p384.csr" -noout -subject)" 'CN = Test, O = Example'
check "cm-hwsetup -genrsa 2048 with -pin" \
    "$HWSETUP" -libname "$P11MOD" -token "CA HSM" -pin 1111 -id 91 -genrsa 2048
run p11 --token-label "CA HSM" --login --pin 1111 --list-objects --type privkey --id 91
like "a key without -sign also decrypts" "$(cat "$T/out")" 'Usage: *decrypt, sign'
done_testing
