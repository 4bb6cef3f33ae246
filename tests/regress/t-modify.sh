#!/bin/sh
# t-modify.sh: modifying policy objects is a policy change like any other:
# two officers sign it, at once or in two steps; a profile change that
# would end four-eye control is refused; audit verify checks it all.
# shellcheck source=tests/regress/lib.sh
. "$(dirname "$0")/lib.sh"

plan 53

B=$T/boot
run env CMCTL="$CMCTL" "$top_srcdir/scripts/bootstrap-ceremony" "$B" \
    "C=SE,O=Modify"
[ "$RC" -eq 0 ] || die "the bootstrap ceremony failed"
CM_DB=$B/cm.db
cmb() { "$CMCTL" -c "$B/cm.conf" -d "$CM_DB" "$@"; }
o1() { cmb --officer "$B/officer-1.p12" --officer-pin-file "$B/officer-1.p12.pin" "$@"; }
o2() { cmb --officer "$B/officer-2.p12" --officer-pin-file "$B/officer-2.p12.pin" "$@"; }
check "a profile to modify" o1 officer-profile create -n Late --permissions audit
id=$(sqlite3 "$CM_DB" "SELECT max(id) FROM changes WHERE state = 'pending'")
check "... signed by officer 2" o2 change sign "$id"

# --- modify: a policy change like any other ---------------------------------------------

o12() { o1 --officer "$B/officer-2.p12" --officer-pin-file "$B/officer-2.p12.pin" "$@"; }
check "two officers modify a certificate procedure at once" \
    o12 cert-procedure modify -n "Officer certificates" --validity 2y
like "... and it has the new validity" \
    "$(cmb cert-procedure show "Officer certificates")" "Validity: 2y"
check "one officer's modify waits for the second" \
    o1 officer-profile modify -n Late --permissions audit,revoke
like "... pending" "$(cat "$T/out")" "is pending"
id=$(sqlite3 "$CM_DB" "SELECT max(id) FROM changes WHERE state = 'pending'")
check "officer 2 signs it" o2 change sign "$id"
like "... and the profile has the new permissions" \
    "$(cmb officer-profile show Late)" "audit,revoke"
check_refused 4 'four-eye control needs two' \
    "taking policy from the officers' profile is refused: exit 4" \
    o12 officer-profile modify -n "Security officers" --permissions issue
check_refused 5 'not found' "modifying an unknown procedure: exit 5" \
    o12 cert-procedure modify -n Nothing --validity 1y
check "two officers change the CRL settings of a CA" \
    o12 ca modify "Officer and system CA" --crl-interval 12h \
    --delta-interval 1h --cdp http://crl.example.test/osca.crl
like "... which ca show shows" "$(cmb ca show "Officer and system CA")" \
    "Delta CRL interval: 3600s"
check_refused 3 'shorter than the CRL interval' \
    "a delta interval not shorter than the CRL interval: exit 3" \
    o12 ca modify "Officer and system CA" --delta-interval 1d
check_refused 4 'is revoked' "a revoked CA's settings do not change: exit 4" \
    o12 ca modify "Boot CA" --crl-interval 1h
check "two officers change a token procedure's PIN procedure" \
    o12 token-procedure modify -n "System tokens" --pin-procedure letter
like "... which token-procedure show shows" \
    "$(cmb token-procedure show "System tokens")" "PIN procedure: letter"
check_refused 4 'storage profile .* does not change' \
    "its storage profile does not change: exit 4" \
    o12 token-procedure modify -n "System tokens" --storage smartcard
check_refused 4 'four-eye control needs two' \
    "moving a policy officer to a profile without policy is refused: exit 4" \
    o12 officer modify "Officer 2" --profile Late
check_refused 5 'not found' "an unknown profile: exit 5" \
    o12 officer modify "Officer 2" --profile Nothing
check_refused 4 'leave out' \
    "narrowing the keys of a procedure a token procedure uses is refused: exit 4" \
    o12 cert-procedure modify -n "TLS, KAR and PIN encryption" \
    --allow-keys ed25519
# --- more refusals: each one line, a documented status, nothing changed ----------

check_refused 5 'not found' "modifying an unknown token procedure: exit 5" \
    o12 token-procedure modify -n Nothing --pin-procedure letter
check_refused 5 'not found' "modifying an unknown officer profile: exit 5" \
    o12 officer-profile modify -n Nothing --permissions audit
check_refused 5 'not found, or disabled' \
    "a disabled officer gets no new profile: exit 5" \
    o12 officer modify "Bootstrap officer 1" --profile Late
check_refused 5 'not found' "modifying an unknown CA: exit 5" \
    o12 ca modify Nothing --crl-interval 1h
check_refused 3 'must be an http, https or ldap URL' \
    "a CDP that is not a URL: exit 3" \
    o12 ca modify "Officer and system CA" --cdp file:///etc/passwd
check_refused 3 'not a duration' "a validity that is no duration: exit 3" \
    o12 cert-procedure modify -n "Officer certificates" --validity soon
check_refused 2 'ca modify NAME' "ca modify without a change: exit 2" \
    o12 ca modify "Officer and system CA"
check_refused 2 'officer modify NAME --profile' \
    "officer modify without --profile: exit 2" o12 officer modify "Officer 2"
check_refused 2 'not both' "--field and --no-fields together: exit 2" \
    o12 cert-procedure modify -n "Officer certificates" \
    --field ocsp-url=http://ocsp.example.test --no-fields
check "audit verify after the modifications" cmb audit verify

# --- what the policy digest covers --------------------------------------------------

cp "$CM_DB" "$T/edited.db"
sqlite3 "$T/edited.db" "UPDATE cas SET not_after = not_after + 86400 WHERE \
    name = 'Officer and system CA'"
check_fail 12 'edited outside opencm' \
    "a CA's not_after edited with sqlite3 is found: exit 12" \
    cmb -d "$T/edited.db" audit verify
cp "$CM_DB" "$T/edited2.db"
sqlite3 "$T/edited2.db" "UPDATE officers SET serial = '01' WHERE \
    name = 'Officer 1'"
check_fail 12 'edited outside opencm' \
    "an officer's certificate serial edited with sqlite3 is found: exit 12" \
    cmb -d "$T/edited2.db" audit verify

# --- policy import keeps a disabled officer disabled ----------------------------------

check "policy export" cmb policy export -o "$T/policy.xml"
like "the export says the bootstrap officer is disabled" \
    "$(cat "$T/policy.xml")" 'name="Bootstrap officer 1"[^>]*state="disabled"|state="disabled"[^>]*name="Bootstrap officer 1"'
cp "$CM_DB" "$T/other.db"
sqlite3 "$T/other.db" "DELETE FROM officers WHERE name = 'Bootstrap officer 1'" ||
    die "sqlite3 delete failed"
check "the policy imported into a CMDB without that officer" \
    o12 -d "$T/other.db" policy import "$T/policy.xml"
like "... brings the officer back disabled, not active" \
    "$(cmb -d "$T/other.db" officer show "Bootstrap officer 1")" \
    "State: disabled"

done_testing
