#!/bin/sh
# t-four-eye.sh: attacks on four-eye control and on audit verify, each
# of which must be caught: a co-signer revoked before the second
# signature, a second officer on the same key, a pending change whose
# signature was stripped, policy digests rewritten in the CMDB, and
# deleted audit checkpoints.
# shellcheck source=tests/regress/lib.sh
. "$(dirname "$0")/lib.sh"

plan 13

B=$T/boot
run env CMCTL="$CMCTL" "$top_srcdir/scripts/bootstrap-ceremony" "$B" \
    "C=SE,O=Four Eye"
[ "$RC" -eq 0 ] || die "the bootstrap ceremony failed"
CM_DB=$B/cm.db
cmb() { "$CMCTL" -c "$B/cm.conf" "$@"; }
o1() { cmb --officer "$B/officer-1.p12" --officer-pin-file "$B/officer-1.p12.pin" "$@"; }
o2() { cmb --officer "$B/officer-2.p12" --officer-pin-file "$B/officer-2.p12.pin" "$@"; }

# --- a co-signer revoked before the second signature --------------------------------

check "officer 1 submits a change alone" \
    o1 officer-profile create -n Late --permissions audit
id=$(sqlite3 "$CM_DB" "SELECT max(id) FROM changes WHERE state = 'pending'")
cp "$CM_DB" "$T/before-revoke.db"
s1=$(openssl x509 -in "$B/officer-1.crt" -noout -serial | cut -d= -f2)
check "officer 2 revokes officer 1's certificate" \
    o2 revoke "$s1" -r keyCompromise
check_refused 4 'can no longer sign' \
    "officer 2 cannot complete the change officer 1 signed: exit 4" \
    o2 change sign "$id"

# --- one key, two officers -------------------------------------------------------------

openssl pkcs12 -in "$B/officer-2.p12" -passin "file:$B/officer-2.p12.pin" \
    -nocerts -nodes -out "$T/k2.pem" 2>/dev/null
openssl req -new -key "$T/k2.pem" -subj "/CN=Officer 2 again" \
    -out "$T/k2.csr" 2>/dev/null
check "a second certificate for officer 2's key" \
    o2 issue -p "Officer certificates" --csr "$T/k2.csr" -o "$T/k2.crt"
check_refused 6 'belongs to officer "Officer 2"' \
    "an officer on a key that is already an officer's: exit 6" \
    o2 officer create -n "Officer 2b" --cert "$T/k2.crt" \
    --profile "Security officers"

# --- a pending change whose signature was stripped ------------------------------------

CM_DB=$T/before-revoke.db
cp "$B/cm.conf" "$T/cm.conf"
sed -i "s|^db.path = .*|db.path = $T/before-revoke.db|" "$T/cm.conf"
t1() { "$CMCTL" -c "$T/cm.conf" "$@"; }
sqlite3 "$T/before-revoke.db" "DELETE FROM change_signatures WHERE \
    change_id = $id; UPDATE changes SET document = replace(document, \
    'audit', 'policy') WHERE id = $id"
doc=$(sqlite3 "$T/before-revoke.db" "SELECT document FROM changes WHERE id = $id")
dig=$(printf '%s' "$doc" | sha256sum | cut -c1-64 | tr a-f A-F)
sqlite3 "$T/before-revoke.db" "UPDATE changes SET digest = '$dig' WHERE id = $id"
check_refused 4 'no valid officer signature' \
    "a pending change without its first signature is not applied: exit 4" \
    t1 --officer "$B/officer-2.p12" --officer-pin-file \
    "$B/officer-2.p12.pin" change sign "$id"
CM_DB=$B/cm.db

# --- policy and its recorded digest rewritten together -----------------------------

cp "$CM_DB" "$T/rewritten.db"
sqlite3 "$T/rewritten.db" "UPDATE procedures SET validity = '100y'"
# Recompute what audit verify compares with, as an attacker would.
"$CMCTL" -c "$B/cm.conf" -d "$T/rewritten.db" audit verify 2>"$T/err1" || true
now=$(sed -n 's/.*, now \([0-9A-F]*\)).*/\1/p' "$T/err1")
last=$(sqlite3 "$T/rewritten.db" "SELECT max(id) FROM changes WHERE state = 'applied'")
assert "audit verify first names the edited policy" test -n "$now"
sqlite3 "$T/rewritten.db" "UPDATE changes SET policy_digest = '$now' WHERE id = $last"
check_fail 12 'audit log records another document or policy' \
    "a policy digest rewritten in the CMDB is still caught: exit 12" \
    cmb -d "$T/rewritten.db" audit verify

# --- deleted audit checkpoints ---------------------------------------------------------

cp "$CM_DB" "$T/nocp.db"
sqlite3 "$T/nocp.db" "DROP TRIGGER audit_checkpoints_no_delete; \
    DELETE FROM audit_checkpoints"
check_fail 12 'checkpoints were deleted' \
    "deleted audit checkpoints: exit 12" cmb -d "$T/nocp.db" audit verify
check "audit verify on the untouched CMDB" cmb audit verify

done_testing
