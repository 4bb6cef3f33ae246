#!/bin/sh
# t-upgrade.sh: a CMDB made by an older opencm (schema version 3, from
# tests/data/cmdb-v3.sql) is migrated by this one and still verifies: the
# tables added since (cards, distribution rules, the publication queue)
# must not change the policy digests its changes recorded.
# shellcheck source=tests/regress/lib.sh
. "$(dirname "$0")/lib.sh"

plan 7

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
done_testing
