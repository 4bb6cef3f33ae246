#!/bin/sh
# t-officers.sh: officer profiles and officers, officer login with PKCS#12
# soft tokens, setup mode, the permissions of officers, four-eye control of
# policy changes (pending changes, change sign and reject, stale and
# tampered changes) and the verification of applied changes by audit verify.
# shellcheck source=tests/regress/lib.sh
. "$(dirname "$0")/lib.sh"

plan 109

ISO='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z'

# value KEY [FILE]: the values of the "KEY: value" lines of FILE (default
# the last command's output), one a line.
value() {
	sed -n "s/^$1: *//p" "${2:-$T/out}"
}

# as_1, as_2, as_3, as_12 ARGS...: cm with officer 1, 2, 3, or 1 and 2
# logged in.  The tokens are named relative to $T, the working directory.
as_1() {
	cm --officer o1.p12 --officer-pin-file o1.pin "$@"
}
as_2() {
	cm --officer o2.p12 --officer-pin-file o2.pin "$@"
}
as_3() {
	cm --officer o3.p12 --officer-pin-file o3.pin "$@"
}
as_12() {
	cm --officer o1.p12 --officer-pin-file o1.pin \
	    --officer o2.p12 --officer-pin-file o2.pin "$@"
}

# pending_id: the ID of the change that the last command left pending, from
# its line on the standard output.
pending_id() {
	sed -n 's/^change \([0-9][0-9]*\) is pending: .*/\1/p' "$T/out"
}

# last_change: the ID of the newest change.
last_change() {
	sqlv "$CM_DB" 'SELECT max(id) FROM changes'
}

# mktoken N DN: a subject DN and a PKCS#12 officer token $T/oN.p12, its PIN
# in $T/oN.pin and its certificate in $T/oN.crt.  Extra arguments go before
# the noun (officers to log in with).
mktoken() {
	_mt_n=$1
	_mt_dn=$2
	shift 2
	must cm "$@" subject register -s "$_mt_dn"
	must cm "$@" token issue -P 'Officer soft' --subject "$_mt_dn" \
	    -o "$T/$_mt_n.p12"
	value PIN >"$T/$_mt_n.pin"
	[ -s "$T/$_mt_n.pin" ] || die "token issue printed no PIN for $_mt_n"
	openssl pkcs12 -in "$T/$_mt_n.p12" -passin "file:$T/$_mt_n.pin" \
	    -nokeys -clcerts 2>/dev/null | openssl x509 >"$T/$_mt_n.crt" ||
	    die "cannot read the certificate of $_mt_n.p12"
}

# --- setup mode: an Officer and system CA, officer tokens, profiles ------------------

pki_init
mkkey r ec:p256
must cm ca create -n OSCA -k r -s 'CN=Officer and system CA' --self-signed
mkproc 'Officer certificates' OSCA rfc5280 --key-usage digitalSignature
must cm token-procedure create -n 'Officer soft' --storage pkcs12 \
    --cert-procedure 'Officer certificates' --key-type ec:p256
for i in 1 2 3; do
	mktoken "o$i" "CN=Officer$i"
done

check "setup mode: an officer profile without --officer" \
    cm officer-profile create -n All \
    --permissions policy,issue,revoke,recover,audit
check "setup mode: a second officer profile" \
    cm officer-profile create -n RA --permissions issue
check_refused 3 'bogus' "an unknown permission: exit 3" \
    cm officer-profile create -n Bad --permissions issue,bogus
check_refused 6 'RA' "a duplicate officer profile: exit 6" \
    cm officer-profile create -n RA --permissions revoke
run cm officer-profile list
is "officer-profile list: NAME, PERMISSIONS" "$(cat "$T/out")" \
    "$(printf 'All\tpolicy,issue,revoke,recover,audit\nRA\tissue')"
run cm officer-profile show RA
is "officer-profile show" "$(cat "$T/out")" \
    "$(printf 'Name: RA\nPermissions: issue')"

check "setup mode: officer 1 is created without --officer" \
    cm officer create -n 'Officer 1' --cert o1.crt --profile All
check "setup mode: officer 2 is created without --officer" \
    cm officer create -n 'Officer 2' --cert o2.crt --profile All
run cm officer list
is "officer list: NAME, PROFILE, STATE, SUBJECT" "$(cat "$T/out")" \
    "$(printf 'Officer 1\tAll\tactive\tCN=Officer1\nOfficer 2\tAll\tactive\tCN=Officer2')"
S1=$(normserial "$(openssl x509 -in o1.crt -noout -serial | sed 's/.*=//')")
run cm officer show 'Officer 1'
is "officer show: the fields in order" \
    "$(sed 's/: .*//' "$T/out" | tr '\n' ',')" \
    "Name,Profile,Permissions,State,Subject,Certificate,CA,Created,"
is "officer show: the values" \
    "$(value Profile)|$(value Permissions)|$(value State)|$(value Subject)|$(normserial "$(value Certificate)")|$(value CA)" \
    "All|policy,issue,revoke,recover,audit|active|CN=Officer1|$S1|OSCA"
like "officer show: Created is an ISO 8601 time" "$(value Created)" "^$ISO\$"

# --- four-eye control of policy changes ---------------------------------------------

check_refused 9 'officer' "a policy change without an officer: exit 9" \
    cm key create -n k1 -t ec:p256
check "officer 1 alone: the change is stored and exits 0" \
    as_1 key create -n k1 -t ec:p256
C1=$(pending_id)
is "it prints the pending line on stdout" "$(cat "$T/out")" \
    "change $C1 is pending: a second officer signs it with \"cmctl change sign $C1\""
run cm change list --state pending
is "change list --state pending: the change, signed by officer 1" \
    "$(line_for "$C1" "$T/out" | cut -f 1-4,6)" \
    "$(printf '%s\tpending\tkey.create\tk1\tOfficer 1' "$C1")"
like "change list: CREATED is an ISO 8601 time" \
    "$(line_for "$C1" "$T/out" | field 5)" "^$ISO\$"
run cm key list
unlike "the key of the pending change does not exist yet" "$(cat "$T/out")" \
    '^k1	'
run cm change show "$C1"
unlike "change show of a pending change: no Applied line" "$(cat "$T/out")" \
    '^Applied:'
check_refused 9 'signed it already' \
    "officer 1 signing its own change again: exit 9" as_1 change sign "$C1"
check "officer 2 signs the pending change" as_2 change sign "$C1"
run cm key list
like "the key exists now" "$(cat "$T/out")" '^k1	'
run cm change list
is "change list: applied, signed by both officers" \
    "$(line_for "$C1" "$T/out" | cut -f 2,6)" \
    "$(printf 'applied\tOfficer 1, Officer 2')"
run cm change show "$C1"
is "change show: the fields in order" \
    "$(grep -E '^[A-Z][A-Za-z0-9 -]*:' "$T/out" | sed 's/:.*//' | tr '\n' ',')" \
    "Change,Type,Object,State,Created,Applied,Signed by,SHA-256,Document,"
DOC=$(sed -n '/^Document:/,$p' "$T/out" | sed 1d)
is "change show: SHA-256 is the digest of the document" \
    "$(value SHA-256)" \
    "$(printf '%s' "$DOC" | openssl dgst -sha256 -r | cut -c1-64 | tr 'a-f' 'A-F')"
like "change show: the document is the canonical XML of key.create" "$DOC" \
    '^<change [^>]*type="key.create".*>k1<.*</change>$'
check_refused 4 'pending' "change sign of an applied change: exit 4" \
    as_2 change sign "$C1"

check "officers 1 and 2 in one command: applied at once" \
    as_12 key create -n k2 -t ec:p256
unlike "no pending line" "$(cat "$T/out")" 'pending'
C2=$(last_change)
run cm change list --state applied
is "the change is applied, signed by both" \
    "$(line_for "$C2" "$T/out" | cut -f 2-4,6)" \
    "$(printf 'applied\tkey.create\tk2\tOfficer 1, Officer 2')"
run cm key list
like "the key exists" "$(cat "$T/out")" '^k2	'
run cm audit list
like "audit list names the officer as actor" "$(cat "$T/out")" \
    '	officer:Officer 1 \(cmctl:[^)]*\)	key\.create	k2	ok	'

# --- reads need no officer ----------------------------------------------------------

check "key list needs no officer" cm key list
check "officer list needs no officer" cm officer list
check "change list needs no officer" cm change list
check "crl issue needs no officer" cm crl issue --ca OSCA -o "$T/osca.crl"

# --- issuing needs an officer who may issue ----------------------------------------

must as_12 key create -n sub-key -t ec:p256
must as_12 ca create -n Sub -k sub-key -s 'CN=Sub CA' -i OSCA
must as_12 cert-procedure create -n Server --ca Sub --format server
mkcsr www /CN=www.example.org
check_refused 9 'officer' "issue without an officer: exit 9" \
    cm issue -p Server --csr www.csr -o www.pem
check_refused 9 'officer' "subject register without an officer: exit 9" \
    cm subject register -s CN=Nobody
check_refused 9 'officer' "token issue without an officer: exit 9" \
    cm token issue -P 'Officer soft' --subject CN=Officer1 -o x.p12
check_refused 5 'Nope' "officer create with an unknown profile: exit 5" \
    as_12 officer create -n 'Officer 3' --cert o3.crt --profile Nope
check_refused 6 '' "officer create with the certificate of another officer: exit 6" \
    as_12 officer create -n 'Officer 3' --cert o2.crt --profile RA
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout foreign.key -subj /CN=foreign -out foreign.crt >/dev/null 2>&1 ||
    die "openssl req -x509 failed"
check_refused 4 'CA' "officer create with a certificate from outside the CMDB: exit 4" \
    as_12 officer create -n 'Officer 3' --cert foreign.crt --profile RA
check "officers 1 and 2 create officer 3 with the profile RA" \
    as_12 officer create -n 'Officer 3' --cert o3.crt --profile RA
check "officer 3 (RA) issues" as_3 issue -p Server --csr www.csr -o www.pem
run cm audit list
like "the audit log names officer 3 as the issuer" "$(cat "$T/out")" \
    '	officer:Officer 3 \(cmctl:[^)]*\)	cert\.issue	'
check_refused 9 'policy' "officer 3 (RA) may not change policy: exit 9" \
    as_3 key create -n k3 -t ec:p256

# --- login checks --------------------------------------------------------------------

check_fail 2 'officer-pin-file' "more --officer-pin-file than --officer: exit 2" \
    cm --officer o1.p12 --officer-pin-file o1.pin --officer-pin-file o2.pin \
    key list
printf 'not the PIN\n' >bad.pin
check_refused 9 'o1\.p12.*PIN' "a wrong PIN: exit 9" \
    cm --officer o1.p12 --officer-pin-file bad.pin key create -n k4 -t ec:p256
run cm audit list
like "the audit log has a refused officer.login" "$(cat "$T/out")" \
    '	officer\.login	o1\.p12	refused	'
mktoken nobody CN=Nobody --officer o3.p12 --officer-pin-file o3.pin
check_refused 9 'nobody\.p12.*no officer' \
    "a token whose certificate is not an officer's: exit 9" \
    cm --officer nobody.p12 --officer-pin-file nobody.pin key list
cp o2.p12 o2-copy.p12
check_refused 9 'already logged in' \
    "the same officer twice: exit 9" \
    cm --officer o2.p12 --officer-pin-file o2.pin \
    --officer o2-copy.p12 --officer-pin-file o2.pin key create -n k5 -t ec:p256

check "officers 1 and 2 disable officer 3" as_12 officer disable 'Officer 3'
run cm officer show 'Officer 3'
is "officer 3 is disabled" "$(value State)" disabled
check_refused 9 'disabled' "a disabled officer cannot log in: exit 9" \
    as_3 issue -p Server --csr www.csr -o www2.pem

# --- stale, tampered and rejected pending changes -----------------------------------

check "officer 2 alone submits change A" as_2 key create -n A -t ec:p256
CA_=$(pending_id)
like "change A is pending" "$CA_" '^[0-9]+$'
check "officers 1 and 2 apply change B" as_12 key create -n B -t ec:p256
CB=$(last_change)
check_refused 4 'policy changed' \
    "signing change A after change B was applied: exit 4" \
    as_1 change sign "$CA_"
check "officer 1 rejects change A" \
    as_1 change reject "$CA_" -r 'stale: submit it again'
run cm change show "$CA_"
is "change A is rejected with the reason" "$(value State)|$(value Reason)" \
    "rejected|stale: submit it again"
run cm change list --state rejected
is "change list --state rejected lists change A" "$(field 1 "$T/out")" "$CA_"
check_refused 4 'pending' "a rejected change cannot be signed: exit 4" \
    as_1 change sign "$CA_"

check "officer 2 alone submits change T, with -q" \
    as_2 -q key create -n T -t ec:p256
CT=$(pending_id)
like "with -q too, the pending line is on stdout" "$CT" '^[0-9]+$'
sqlite3 "$CM_DB" "UPDATE changes SET document = replace(document, \
    '>T<', '>U<') WHERE id = $CT" || die "sqlite3 UPDATE failed"
check_refused 4 'altered' "signing a tampered pending change: exit 4" \
    as_1 change sign "$CT"
run cm key list
unlike "neither T nor U was created" "$(cat "$T/out")" '^(T|U)	'

check_refused 4 'four-eye' \
    "disabling one of the only two policy officers: exit 4" \
    as_12 officer disable 'Officer 2'

# --- audit verify ----------------------------------------------------------------------

check "audit verify: ok" cm audit verify
cp "$CM_DB" edited.db
sqlite3 edited.db "UPDATE changes SET document = replace(document, \
    'ec:p256', 'ec:p384') WHERE id = $CB" || die "sqlite3 UPDATE failed"
check_fail 12 "change ${CB}[^0-9]" \
    "audit verify: an applied change whose document was edited: exit 12" \
    cm -d edited.db audit verify
cp "$CM_DB" unsigned.db
sqlite3 unsigned.db "DELETE FROM change_signatures WHERE change_id = $CB" ||
    die "sqlite3 DELETE failed"
check_fail 12 "change ${CB}[^0-9].*signatures" \
    "audit verify: an applied change without its signatures: exit 12" \
    cm -d unsigned.db audit verify

# --- revoking an officer's certificate ends its logins -------------------------------

check_refused 9 'officer' "revoke without an officer: exit 9" \
    cm revoke "$S1" -r keyCompromise
check "officer 2 revokes the certificate of officer 1" \
    as_2 revoke "$S1" -r keyCompromise
check_refused 9 'revoked' "officer 1 can no longer log in: exit 9" \
    as_1 key create -n k6 -t ec:p256
check "audit verify: still ok" cm audit verify

# --- bootstrap officers: two-step signing off ------------------------------------------

CM_DB=$T/boot.db
must cm init
check "bootstrap makes the boot kit" cm bootstrap --kit kit --org C=SE,O=Test
B1="--officer kit/boot-officer-1.p12 --officer-pin-file kit/boot-officer-1.p12.pin"
B2="--officer kit/boot-officer-2.p12 --officer-pin-file kit/boot-officer-2.p12.pin"
# shellcheck disable=SC2086
check_refused 4 'two steps' \
    "a bootstrap officer alone (two-step signing off): exit 4" \
    cm $B1 key create -n k7 -t ec:p256
# shellcheck disable=SC2086
check "the two bootstrap officers together: applied" \
    cm $B1 $B2 key create -n k7 -t ec:p256
CM_DB=$T/cm.db

# --- policy edited directly in the CMDB -------------------------------------------------

cp "$T/cm.db" "$T/edited.db"
sqlite3 "$T/edited.db" "UPDATE officer_profiles SET permissions = \
    'policy,issue,revoke,recover,audit' WHERE name = 'RA'"
check_fail 12 'edited outside opencm' \
    "audit verify: a profile edited with sqlite3 is found: exit 12" \
    cm -d "$T/edited.db" audit verify
check "audit verify: the original CMDB is still ok" cm audit verify

# --- policy export and import (on the bootstrapped CMDB) ------------------------------

CM_DB=$T/boot.db
check "policy export writes the policy" cm policy export -o "$T/policy.xml"
like "policy export: the bootstrap officers are in it" "$(cat "$T/policy.xml")" \
    '<officer [^>]*name="Bootstrap officer 1"'
sed 's/name="Bootstrap officers"/name="Imported profile"/' "$T/policy.xml" \
    > "$T/policy2.xml"
# shellcheck disable=SC2086
check "policy import by both officers adds what is missing" \
    cm $B1 $B2 policy import "$T/policy2.xml"
run cm officer-profile list
like "policy import: the renamed profile exists" "$(cat "$T/out")" \
    'Imported profile'
echo '<policy/>' > "$T/nopolicy.xml"
# shellcheck disable=SC2086
check_refused 3 'not a policy document' \
    "policy import of something else: exit 3" \
    cm $B1 $B2 policy import "$T/nopolicy.xml"
check "audit verify after the import" cm audit verify
CM_DB=$T/cm.db

done_testing
