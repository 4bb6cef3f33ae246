#!/bin/sh
# t-bootstrap.sh: the bootstrap ceremony of cm-bootstrap(7), run with
# scripts/bootstrap-ceremony against the cmctl under test, and what it
# leaves checked with openssl: every token opens with its PIN and with no
# other, the officer and system certificates chain to the Officer and system
# CA, logsignkey is that CA's key, the Boot CA is revoked and its key
# removed, the bootstrap officers can no longer act and the new officers
# sign together or in two steps.  Then cmctl bootstrap itself: the boot kit,
# its refusals, and bootstrap officers who never sign alone.
# shellcheck source=tests/regress/lib.sh
. "$(dirname "$0")/lib.sh"

plan 129

B=$T/boot
ORG='C=SE,O=Bootstrap Test'
ORG_RFC2253='O=Bootstrap Test,C=SE'
P12S='kit/boot-officer-1.p12 kit/boot-officer-2.p12 officer-1.p12
officer-2.p12 tls.p12 pin.p12'

# The ceremony: everything below depends on it.
run env CMCTL="$CMCTL" "$top_srcdir/scripts/bootstrap-ceremony" "$B" "$ORG"
cp "$T/out" "$T/ceremony.log"
if [ "$RC" -ne 0 ]; then
	_show_run scripts/bootstrap-ceremony "$B" "$ORG"
	die "the bootstrap ceremony failed"
fi
pass "scripts/bootstrap-ceremony runs to the end"
like "the ceremony logs its steps, the last one Done" \
    "$(grep -E '^\[[0-9]{2}\] ' "$T/ceremony.log" | tail -n 1)" '^\[14\] Done$'

# cmb ARGS: cmctl on the ceremony's CMDB (cm.conf names it and the key store
# passphrase file).  check_refused snapshots $CM_DB: the same file.
cmb() {
	"$CMCTL" -c "$B/cm.conf" "$@"
}
CM_DB=$B/cm.db
export CM_DB

# new2, new1, new2only, boot2, boot1: with those officers logged in.
new2() {
	cmb --officer "$B/officer-1.p12" --officer-pin-file "$B/officer-1.p12.pin" \
	    --officer "$B/officer-2.p12" --officer-pin-file "$B/officer-2.p12.pin" \
	    "$@"
}
new1() {
	cmb --officer "$B/officer-1.p12" --officer-pin-file "$B/officer-1.p12.pin" \
	    "$@"
}
new2only() {
	cmb --officer "$B/officer-2.p12" --officer-pin-file "$B/officer-2.p12.pin" \
	    "$@"
}
boot2() {
	cmb --officer "$B/kit/boot-officer-1.p12" \
	    --officer-pin-file "$B/kit/boot-officer-1.p12.pin" \
	    --officer "$B/kit/boot-officer-2.p12" \
	    --officer-pin-file "$B/kit/boot-officer-2.p12.pin" "$@"
}
boot1() {
	cmb --officer "$B/kit/boot-officer-2.p12" \
	    --officer-pin-file "$B/kit/boot-officer-2.p12.pin" "$@"
}

# mode FILE: the permission bits, as octal.
mode() {
	stat -c %a "$1"
}

# p12_cert P12 PINFILE OUT: the token's own certificate (PEM).
p12_cert() {
	openssl pkcs12 -in "$1" -passin "file:$2" -nokeys -clcerts \
	    2>"$T/openssl.err" | openssl x509 -out "$3" 2>>"$T/openssl.err"
}

# p12_key_matches P12 PINFILE: the private key of the token is the key of
# its certificate.
p12_key_matches() {
	openssl pkcs12 -in "$1" -passin "file:$2" -nocerts -nodes |
	    openssl pkey -pubout >"$T/k.pub" &&
	openssl pkcs12 -in "$1" -passin "file:$2" -nokeys -clcerts |
	    openssl x509 -noout -pubkey >"$T/c.pub" &&
	[ -s "$T/k.pub" ] && cmp "$T/k.pub" "$T/c.pub"
}

# ------------------------------------------------ the files it leaves

for f in cm.db cm.conf kit/boot-officer-1.p12 kit/boot-officer-2.p12 \
    officer-1.p12 officer-2.p12 tls.p12 pin.p12 pin.crt; do
	assert "the ceremony leaves $f" test -s "$B/$f"
done
for f in officer-1.p12.pin officer-2.p12.pin tls.p12.pin pin.p12.pin \
    kit/boot-officer-1.p12.pin kit/boot-officer-2.p12.pin keystore.pin; do
	if [ -s "$B/$f" ]; then
		is "$f has mode 600" "$(mode "$B/$f")" 600
	else
		fail "$f has mode 600"
		diag "no such file, or empty: $B/$f"
	fi
done

# PINs: 12 letters and digits without 0, 1, I, O and l; all different.
for f in $P12S; do
	cat "$B/$f.pin"
done >"$T/pins"
is "every token PIN is 12 letters and digits without look-alikes" \
    "$(grep -Ecx '[2-9A-HJ-NP-Za-km-z]{12}' "$T/pins") of $(lines "$T/pins")" \
    "6 of 6"
is "the six token PINs are all different" "$(sort -u "$T/pins" | wc -l | tr -d ' ')" 6

# --------------------------------------------- tokens open with their PIN

prev=pin.p12
for f in $P12S; do
	assert "$f opens with its PIN" openssl pkcs12 -in "$B/$f" \
	    -passin "file:$B/$f.pin" -noout
	refute "$f does not open with the PIN of $prev" openssl pkcs12 \
	    -in "$B/$f" -passin "file:$B/$prev.pin" -noout
	prev=$f
done
for f in officer-1 officer-2 tls pin; do
	assert "$f.p12: the private key is the key of the certificate" \
	    p12_key_matches "$B/$f.p12" "$B/$f.p12.pin"
done

# ------------------------------------------- certificates, with openssl

check "ca export \"Officer and system CA\"" \
    cmb ca export "Officer and system CA" -o "$T/osca.pem"
for f in officer-1 officer-2 tls pin; do
	p12_cert "$B/$f.p12" "$B/$f.p12.pin" "$T/$f.pem" ||
	    diag_file "$T/openssl.err"
done
for f in officer-1 officer-2 pin; do
	run openssl verify -x509_strict -CAfile "$T/osca.pem" "$T/$f.pem"
	is "$f certificate verifies against the Officer and system CA" \
	    "$RC $(cat "$T/out")" "0 $T/$f.pem: OK"
done
run openssl verify -x509_strict -purpose sslserver -CAfile "$T/osca.pem" \
    "$T/tls.pem"
is "the TLS certificate verifies as a TLS server certificate" \
    "$RC $(cat "$T/out")" "0 $T/tls.pem: OK"
like "the TLS certificate names DNS:localhost" \
    "$(openssl x509 -in "$T/tls.pem" -noout -ext subjectAltName 2>&1 |
    sed -n 2p)" '^ *DNS:localhost$'
is "the TLS certificate's subject is CN=localhost" \
    "$(openssl x509 -in "$T/tls.pem" -noout -subject -nameopt RFC2253)" \
    "subject=CN=localhost,$ORG_RFC2253"
is "the officer 1 certificate's subject is CN=Officer 1" \
    "$(openssl x509 -in "$T/officer-1.pem" -noout -subject -nameopt RFC2253)" \
    "subject=CN=Officer 1,$ORG_RFC2253"
openssl x509 -in "$B/pin.crt" -outform DER -out "$T/pin-crt.der" 2>/dev/null
openssl x509 -in "$T/pin.pem" -outform DER -out "$T/pin-p12.der" 2>/dev/null
assert "pin.crt is the certificate in pin.p12" cmp "$T/pin-crt.der" \
    "$T/pin-p12.der"

# ------------------------------------------------------------- logsignkey

check "key show \"Officer and system CA key\"" \
    cmb key show "Officer and system CA key"
ident=$(sed -n 's/^Identifier: //p' "$T/out")
like "key show prints an Identifier" "$ident" '^[0-9A-F]{40}$'
is "cm.conf has one logsignkey line: the Identifier of the key" \
    "$(grep '^logsignkey' "$B/cm.conf")" "logsignkey = $ident"
is "the Identifier is the subjectKeyIdentifier of the Officer and system CA" \
    "$ident" "$(ski_of "$T/osca.pem")"
is "... and the SHA-1 of its public key, computed here" \
    "$ident" "$(keyid_of "$T/osca.pem")"
check "cmctl reads the cm.conf with logsignkey" cmb ca list

# --------------------------------------------- the Boot CA and its key

is "ca list: the Boot CA is revoked" \
    "$(line_for 'Boot CA' "$T/out" | field 2)" revoked
is "ca list: the Officer and system CA is active" \
    "$(line_for 'Officer and system CA' "$T/out" | field 2)" active
check "key list" cmb key list
is "key list: the Boot CA key is removed" \
    "$(line_for 'Boot CA key' "$T/out" | field 5)" removed
is "key list: the Officer and system CA key is in use" \
    "$(line_for 'Officer and system CA key' "$T/out" | field 5)" "in use"
check "cert-procedure list" cmb cert-procedure list
like "the Boot officer certificates procedure is unusable" \
    "$(line_for 'Boot officer certificates' "$T/out" | field 4)" '^unusable'
is "the Officer certificates procedure is usable" \
    "$(line_for 'Officer certificates' "$T/out" | field 4)" usable

# The Boot CA certificate, as the boot kit carries it.
openssl pkcs12 -in "$B/kit/boot-officer-1.p12" \
    -passin "file:$B/kit/boot-officer-1.p12.pin" -nokeys -cacerts 2>/dev/null |
    openssl x509 -out "$T/bootca.pem" 2>/dev/null
p12_cert "$B/kit/boot-officer-1.p12" "$B/kit/boot-officer-1.p12.pin" \
    "$T/boot1.pem"
is "the boot kit carries the Boot CA certificate" \
    "$(openssl x509 -in "$T/bootca.pem" -noout -subject -issuer \
    -nameopt RFC2253 2>&1 | tr '\n' ' ')" \
    "subject=CN=Boot CA,$ORG_RFC2253 issuer=CN=Boot CA,$ORG_RFC2253 "
check "ca export \"Boot CA\" (revoked)" cmb ca export "Boot CA" -o "$T/bootca-export.pem"
is "the exported Boot CA is the one in the boot kit" \
    "$(fingerprint "$T/bootca-export.pem")" "$(fingerprint "$T/bootca.pem")"
like "the Boot CA key is EC P-384" \
    "$(openssl x509 -in "$T/bootca.pem" -noout -text | grep 'ASN1 OID')" \
    'secp384r1'
like "the Boot CA has pathlen 0" \
    "$(openssl x509 -in "$T/bootca.pem" -noout -ext basicConstraints |
    sed -n 2p)" '^ *CA:TRUE, pathlen:0$'
nb=$(to_epoch "$(openssl x509 -in "$T/bootca.pem" -noout -startdate | sed 's/^notBefore=//')")
na=$(to_epoch "$(openssl x509 -in "$T/bootca.pem" -noout -enddate | sed 's/^notAfter=//')")
like "the Boot CA is valid for one year" "$(( (na - nb) / 86400 ))" '^36[56]$'
run openssl verify -x509_strict -CAfile "$T/bootca.pem" "$T/boot1.pem"
is "bootstrap officer 1's certificate verifies against the Boot CA" \
    "$RC $(cat "$T/out")" "0 $T/boot1.pem: OK"

# --------------------------------------------------------------- officers

check_refused 9 'officer token .*boot-officer-1\.p12' \
    "the bootstrap officers cannot log in any more" \
    boot2 officer-profile create -n "Late change" --permissions audit
check_fail 9 'officer token .*boot-officer-2\.p12.*(active CA|revoked|disabled)' \
    "bootstrap officer 2 alone cannot log in either" boot1 officer list

check "the two new officers together make a policy change" \
    new2 officer-profile create -n Auditors --permissions audit
check "officer-profile list" cmb officer-profile list
is "the profile Auditors exists" \
    "$(line_for Auditors "$T/out" | field 2)" audit

run new1 officer-profile create -n "Key recovery officers" --permissions recover
is "one new officer alone: the change is accepted" "$RC" 0
like "... and stdout says it is pending" "$(cat "$T/out")" \
    '^change [0-9]+ is pending'
pending=$(sed -n 's/^change \([0-9]*\) is pending.*/\1/p' "$T/out")
check "officer-profile list" cmb officer-profile list
is "... and the profile does not exist yet" \
    "$(line_for 'Key recovery officers' "$T/out")" ""
check "change list --state pending" cmb change list --state pending
is "change list: the pending change, signed by Officer 1" \
    "$(line_for "$pending" "$T/out" | cut -f 2,3,4,6 | tr '\t\n' '||')" \
    "pending|officer-profile.create|Key recovery officers|Officer 1|"
check_fail '4|9' 'second officer|already' \
    "Officer 1 cannot sign the change a second time" \
    new1 change sign "$pending"
check "Officer 2 signs the pending change" new2only change sign "$pending"
check "officer-profile list" cmb officer-profile list
is "... and now the profile exists" \
    "$(line_for 'Key recovery officers' "$T/out" | field 2)" recover

check "change list" cmb change list
is "change list: the test change Registration officers, signed by both" \
    "$(awk -F '\t' '$4 == "Registration officers"' "$T/out" |
    cut -f 2,3,6 | tr '\t\n' '||')" \
    "applied|officer-profile.create|Officer 1, Officer 2|"
is "change list: the Boot CA was revoked by the two new officers" \
    "$(awk -F '\t' '$3 == "ca.revoke" && $4 == "Boot CA"' "$T/out" |
    cut -f 2,6 | tr '\t\n' '||')" "applied|Officer 1, Officer 2|"
is "change list: the Boot CA key was removed by the two new officers" \
    "$(awk -F '\t' '$3 == "key.remove" && $4 == "Boot CA key"' "$T/out" |
    cut -f 2,6 | tr '\t\n' '||')" "applied|Officer 1, Officer 2|"

# --------------------------------------- nothing issues under the Boot CA

must new2 subject register -s "$ORG,CN=Late bootstrap officer"
check_refused 4 'Boot CA' \
    "token issue under Boot officer tokens is refused" \
    new2 token issue -P "Boot officer tokens" \
    --subject "$ORG,CN=Late bootstrap officer" -o "$T/late.p12"
refute "... and writes no token" test -e "$T/late.p12"
mkcsr late "/CN=late.example.org"
check_refused 4 'Boot CA' \
    "issue under Boot officer certificates is refused" \
    new2 issue -p "Boot officer certificates" --csr "$T/late.csr" \
    -o "$T/late.pem"

# ------------------------------------------------------ cmctl bootstrap

mkdir "$T/kit-copy"
cp -p "$B"/kit/* "$T/kit-copy/"
check_refused 4 'already holds policy' \
    "bootstrap on the ceremony's CMDB is refused" \
    cmb bootstrap --kit "$T/kit2"
is "... and writes no boot kit" \
    "$(find "$T/kit2" -type f 2>/dev/null | wc -l)" 0

# A CMDB with policy made in setup mode is no place for a bootstrap either.
F=$T/fresh
mkdir "$F"
fc() {
	"$CMCTL" -d "$F/cm.db" --pin-file "$PIN" "$@"
}
must fc init
CM_DB=$F/cm.db
check "setup mode: a key is created without an officer" \
    fc key create -n "Early key" -t ec:p256
check_refused 4 'already holds policy' \
    "bootstrap on a CMDB with a key is refused" \
    fc bootstrap --kit "$F/kit-early"

# A new CMDB, but the boot kit directory holds a kit already.
G=$T/new
mkdir "$G"
gc() {
	"$CMCTL" -d "$G/cm.db" --pin-file "$PIN" "$@"
}
must gc init
CM_DB=$G/cm.db
check_refused 6 'boot kit' \
    "bootstrap into an existing boot kit is refused" \
    gc bootstrap --kit "$B/kit"
assert "... and the boot kit is as it was" diff -r "$T/kit-copy" "$B/kit"

check "bootstrap on a new CMDB" gc bootstrap --kit "$G/kit" --org "$ORG"
like "... prints where the kit is" "$(cat "$T/out")" \
    "^Bootstrap officer 1: $G/kit/boot-officer-1.p12 "
for f in boot-officer-1.p12 boot-officer-2.p12; do
	assert "$f opens with its PIN" openssl pkcs12 -in "$G/kit/$f" \
	    -passin "file:$G/kit/$f.pin" -noout
done
check "ca list" gc ca list
is "the new CMDB has the Boot CA, and no other CA" \
    "$(cut -f 1,2,3,4,5 "$T/out" | tr '\n' '|')" \
    "Boot CA	active	self-signed	Boot CA key	$ORG,CN=Boot CA|"
check "token-procedure list" gc token-procedure list
is "the token procedure Boot officer tokens" \
    "$(line_for 'Boot officer tokens' "$T/out" | cut -f 2,3)" \
    "pkcs12	Boot officer certificates"
check "officer list" gc officer list
is "two bootstrap officers with the profile Bootstrap officers" \
    "$(cut -f 1,2,3 "$T/out" | tr '\n' '|')" \
    "Bootstrap officer 1	Bootstrap officers	active|Bootstrap officer 2	Bootstrap officers	active|"
check "officer-profile list" gc officer-profile list
is "Bootstrap officers have every permission" \
    "$(line_for 'Bootstrap officers' "$T/out" | field 2)" \
    "policy,issue,revoke,recover,audit"

gboot1() {
	gc --officer "$G/kit/boot-officer-1.p12" \
	    --officer-pin-file "$G/kit/boot-officer-1.p12.pin" "$@"
}
gboot2() {
	gc --officer "$G/kit/boot-officer-1.p12" \
	    --officer-pin-file "$G/kit/boot-officer-1.p12.pin" \
	    --officer "$G/kit/boot-officer-2.p12" \
	    --officer-pin-file "$G/kit/boot-officer-2.p12.pin" "$@"
}
check_refused 9 'must log in' \
    "after bootstrap, a policy change needs officers" \
    gc officer-profile create -n Nobody --permissions audit
check_refused 4 'two officers sign together' \
    "a bootstrap officer alone cannot sign a change, not even in two steps" \
    gboot1 officer-profile create -n Alone --permissions audit
check "change list --state pending" gc change list --state pending
is "... and no change is left pending" "$(cat "$T/out")" ""
check "the two bootstrap officers together make a change" \
    gboot2 key create -n "Officer and system CA key" -t ec:p256
check "change list" gc change list
is "... signed by both bootstrap officers" \
    "$(awk -F '\t' '$4 == "Officer and system CA key"' "$T/out" |
    cut -f 2,6 | tr '\t\n' '||')" \
    "applied|Bootstrap officer 1, Bootstrap officer 2|"

# ------------------------------------------------------------- audit log

CM_DB=$B/cm.db
check "audit verify on the ceremony's CMDB" cmb audit verify
check "audit verify on the bootstrapped CMDB" gc audit verify

# ----------------------------------------------------- signed audit checkpoints

n=$(sqlite3 "$B/cm.db" "SELECT count(*) FROM audit_checkpoints")
assert "the ceremony signed an audit checkpoint with logsignkey" \
    test "$n" -ge 1
is "... with the key of the Officer and system CA" \
    "$(sqlite3 "$B/cm.db" "SELECT DISTINCT key_identifier FROM audit_checkpoints")" \
    "$(grep '^logsignkey' "$B/cm.conf" | sed 's/.*= *//')"
check "audit checkpoint signs the log now" cmb audit checkpoint
like "... and says up to which record" "$(cat "$T/out")" \
    '^audit checkpoint: records 1 to [0-9]+ signed$'
cp "$B/cm.db" "$T/cut.db"
last=$(sqlite3 "$T/cut.db" "SELECT max(seq) FROM audit_checkpoints")
sqlite3 "$T/cut.db" "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE \
    seq >= $last; UPDATE counters SET value = $last - 1 WHERE name = 'audit head'"
check_fail 12 'cut short or rewritten' \
    "a log cut short below a checkpoint, counter and all: exit 12" \
    cmb -d "$T/cut.db" audit verify
cp "$B/cm.db" "$T/forged.db"
sqlite3 "$T/forged.db" "DROP TRIGGER audit_checkpoints_no_update; UPDATE \
    audit_checkpoints SET time = time + 1 WHERE id = 1"
check_fail 12 'checkpoint 1.*does not verify' \
    "an edited checkpoint: exit 12" cmb -d "$T/forged.db" audit verify

done_testing
