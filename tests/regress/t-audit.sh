#!/bin/sh
# t-audit.sh: the hash-chained audit log.
# shellcheck source=tests/regress/lib.sh
. "$(dirname "$0")/lib.sh"

plan 28

pki_init
mkroot Root ec:p256
mkproc Server Root server
issue_cert leaf Server /CN=www.example.test
LEAF=$SERIAL
must cm revoke "$LEAF" -r keyCompromise
must cm crl issue --ca Root -o "$T/root.crl"
random_file "$T/garbage.csr" 500
run cm issue -p Server --csr "$T/garbage.csr" -o "$T/garbage.pem"
[ "$RC" -ne 0 ] || die "a garbage request was accepted"

run cm audit list
cp "$T/out" "$T/audit.list"
N=$(lines "$T/audit.list")

# --- audit list -------------------------------------------------------------------

is "audit list: 7 TAB-separated fields on every line" \
    "$(awk -F '\t' 'NF != 7' "$T/audit.list")" ""
is "audit list: sequence numbers 1 to N, in order" \
    "$(field 1 "$T/audit.list" | tr '\n' ' ')" \
    "$(i=1; while [ $i -le "$N" ]; do printf '%s ' $i; i=$((i + 1)); done)"
is "audit list: times in ISO 8601 (UTC)" \
    "$(field 2 "$T/audit.list" |
    grep -Evx '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z')" ""
is "audit list: every result is ok or refused" \
    "$(field 6 "$T/audit.list" | grep -Evx 'ok|refused')" ""

# record ACTION-ERE OBJECT-ERE RESULT: the records that match.
record() {
	awk -F '\t' -v a="$1" -v o="$2" -v r="$3" \
	    '$4 ~ a && $5 ~ o && $6 == r' "$T/audit.list"
}

# has_record DESC ACTION-ERE OBJECT-ERE RESULT
has_record() {
	if [ -n "$(record "$2" "$3" "$4")" ]; then
		pass "$1"
	else
		fail "$1"
		diag "no record with action ~ /$2/, object ~ /$3/, result $4"
		diag_file "$T/audit.list" 30
	fi
}

has_record "init is recorded" '^(init|cmdb)' '' ok
has_record "key create is recorded, with the key as object" '^key' '^Root-key$' ok
has_record "ca create is recorded, with the CA as object" '^ca[^a-z-]' '^Root$' ok
has_record "cert-procedure create is recorded" 'procedure' '^Server$' ok
has_record "issue is recorded" 'issue' '' ok
ls=$(normserial "$LEAF")
is "revoke is recorded, naming the serial" \
    "$(record 'revoke' '' ok | tr 'abcdef' 'ABCDEF' | tr -d ':' | grep -c "$ls")" 1
has_record "crl issue is recorded" 'crl' '' ok
is "the refused issue is recorded as refused, with the reason" \
    "$(record 'issue' '' refused | awk -F '\t' '$7 != ""' | wc -l | tr -d ' ')" 1

run cm audit list --limit 3
is "audit list --limit 3" "$(field 1 "$T/out" | tr '\n' ' ')" "1 2 3 "
run cm audit list --since "$(date -u -d tomorrow +%Y-%m-%d)"
is "audit list --since tomorrow lists nothing" "$(lines "$T/out")" 0
run cm audit list --since 2000-01-01T00:00:00Z
is "audit list --since 2000-01-01 lists everything" "$(lines "$T/out")" "$N"

run cm ca list
run cm key list
run cm audit list
is "reading does not add audit records" "$(lines "$T/out")" "$N"

printf 'wrong horse battery\n' >"$T/wrong.pin"
run "$CMCTL" --pin-file "$T/wrong.pin" key create -n k-wrong -t ec:p256
run cm audit list
is "a refused key create (wrong passphrase) is recorded as refused" \
    "$(tail -n 1 "$T/out" | awk -F '\t' '{ print $1, $6 }')" "$((N + 1)) refused"
cp "$T/out" "$T/audit.list"
N=$((N + 1))

# --- audit verify -------------------------------------------------------------------

check "audit verify succeeds" cm audit verify
is "audit verify reports the number of records" "$(cat "$T/out")" \
    "audit log: $N records verified"

sed -n 3p "$T/audit.list" >"$T/rec3.before"
refute "the CMDB refuses UPDATE of an audit record" \
    sqlite3 "$CM_DB" "UPDATE audit SET detail = 'x' WHERE seq = 3"
run cm audit list
sed -n 3p "$T/out" >"$T/rec3.after"
assert "record 3 is unchanged" cmp "$T/rec3.before" "$T/rec3.after"
refute "the CMDB refuses DELETE of an audit record" \
    sqlite3 "$CM_DB" "DELETE FROM audit WHERE seq = 3"
is "no record was deleted" "$(sqlv "$CM_DB" 'SELECT count(*) FROM audit')" "$N"
check "audit verify still succeeds" cm audit verify

# --- tampering behind the engine's back -----------------------------------------

# tampered NAME SQL: a copy of the CMDB without the audit triggers, with SQL
# applied to it.
tampered() {
	rm -f "$T/$1.db"
	sqlite3 "$CM_DB" ".backup '$T/$1.db'" || die "backup $1"
	for _tr in $(sqlite3 "$T/$1.db" "SELECT name FROM sqlite_master WHERE
	    type = 'trigger' AND tbl_name = 'audit'"); do
		sqlite3 "$T/$1.db" "DROP TRIGGER \"$_tr\"" || die "drop $_tr"
	done
	sqlite3 "$T/$1.db" "$2" || die "tamper $1"
}

tampered edit3 "UPDATE audit SET detail = 'x' WHERE seq = 3"
check_fail 12 'record 3([^0-9]|$)' "an edited record 3: audit verify exits 12 naming it" \
    cm -d "$T/edit3.db" audit verify
tampered del4 "DELETE FROM audit WHERE seq = 4"
check_fail 12 'record 4([^0-9]|$)' "a deleted record 4: audit verify exits 12 naming it" \
    cm -d "$T/del4.db" audit verify
tampered dellast "DELETE FROM audit WHERE seq = $N"
check_fail 12 'audit' "a deleted last record: audit verify exits 12" \
    cm -d "$T/dellast.db" audit verify
tampered forged "INSERT INTO audit (seq, time, actor, action, object, result,
    detail, prev, hash) VALUES ($((N + 1)), strftime('%s', 'now'), 'mallory',
    'key.create', 'x', 'ok', 'forged', zeroblob(32), zeroblob(32))"
check_fail 12 "record $((N + 1))([^0-9]|\$)" "a forged record at the end: exit 12 naming it" \
    cm -d "$T/forged.db" audit verify

done_testing
