#!/bin/sh
# t-upgrade.sh: CMDBs made by older opencms (schema version 3, from
# tests/data/cmdb-v3.sql, and 6, with a distribution rule and a queue,
# from tests/data/cmdb-v6.sql) are migrated by this one and still verify:
# the tables and columns added since must not change the policy digests
# their changes recorded, and the queue keeps every item.
# shellcheck source=tests/regress/lib.sh
. "$(dirname "$0")/lib.sh"

plan 14

sqlite3 "$CM_DB" <"$top_srcdir/tests/data/cmdb-v3.sql" ||
    die "loading the old CMDB failed"
printf 'pass phrase 1\n' >"$PIN"
is "the old CMDB is at schema version 3" \
    "$(sqlv "$CM_DB" "PRAGMA user_version")" 3
check "audit verify on the old CMDB: migrated, and its digests still hold" \
    cm audit verify
assert "it is at the current schema version now" \
    test "$(sqlv "$CM_DB" "PRAGMA user_version")" -gt 3
check "the old CA still issues a CRL" cm crl issue --ca R -o "$T/r.crl"
check "a policy change in the migrated CMDB" \
    cm officer-profile create -n Auditors --permissions audit
check "audit verify after it" cm audit verify
check "the old certificate procedure issues" sh -c "
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout '$T/k.pem' -subj /CN=new.example.test -out '$T/new.csr' \
    2>/dev/null && '$CMCTL' --pin-file '$PIN' issue -p S --csr '$T/new.csr' \
    --san DNS:new.example.test -o '$T/new.pem'"

# --- version 6: the publication queue is rebuilt, nothing lost ------------------

CM_DB=$T/v6.db
sqlite3 "$CM_DB" <"$top_srcdir/tests/data/cmdb-v6.sql" ||
    die "loading the version 6 CMDB failed"
is "the second old CMDB is at schema version 6" \
    "$(sqlv "$CM_DB" "PRAGMA user_version")" 6
check "audit verify: migrated, its digests (a rule among them) hold" \
    cm audit verify
run cm publish list
is "the queue kept its three items, in order, pending" \
    "$(cut -f2,4,6 "$T/out" | tr '\t\n' ' |')" \
    "pending ca-cert R.crt|pending crl R.crl|pending cert \
5A4B9AB99D5400DCE3E1D6FBFF6B184F.cer|"
is "... the CRL's item names its number" "$(sqlv "$CM_DB" "SELECT number \
    FROM publications WHERE kind = 'crl'")" 1
run "$(dirname "$CMCTL")/cm-da" --pin-file "$PIN" --once
is "cm-da works the migrated queue (nobody listens on port 9)" "$RC" 1
like "... the rule's sealed password opened: the failure is the server's" \
    "$(sqlv "$CM_DB" "SELECT group_concat(last_error) FROM publications")" \
    'onnect'
check "audit verify after it" cm audit verify
done_testing
