#!/bin/sh
# t-db-faults.sh: a read-only, unreadable, damaged or locked CMDB.
# shellcheck source=tests/regress/lib.sh
. "$(dirname "$0")/lib.sh"

plan 12

pki_init
mkroot Root ec:p256

printf 'db.busy-timeout = 300\n' >"$T/fast.conf"

# --- read-only and unreadable CMDB ---------------------------------------------

# A copy of the CMDB that the test user cannot write: as root, run cmctl as
# nobody on a root-owned copy; otherwise make the copy read-only.
RO=$T/ro
mkdir -p "$RO"
sqlite3 "$CM_DB" ".backup '$RO/cm.db'" || die "backup to $RO"
cp "$PIN" "$RO/ks.pin"
AS=
if [ "$(id -u)" -eq 0 ]; then
	if command -v setpriv >/dev/null 2>&1 &&
	    id nobody >/dev/null 2>&1 && getent group nogroup >/dev/null; then
		chmod 755 "$T" "$RO"
		chmod 644 "$RO/cm.db"
		chown nobody "$RO/ks.pin"
		chmod 600 "$RO/ks.pin"
		AS="setpriv --reuid=nobody --regid=nogroup --clear-groups"
		# shellcheck disable=SC2086
		if ! $AS "$CMCTL" --version >/dev/null 2>&1 ||
		    ! $AS test -r "$RO/cm.db"; then
			diag "nobody cannot run $CMCTL or reach $RO"
			AS=none
		fi
	else
		AS=none
	fi
else
	chmod 444 "$RO/cm.db"
	chmod 555 "$RO"
fi

# as CMD...: run CMD as the user who cannot write the copy.
as() {
	# shellcheck disable=SC2086
	$AS "$@"
}

if [ "$AS" = none ]; then
	for d in "read-only CMDB: a state change exits 7" \
	    "read-only CMDB: the file is unchanged" \
	    "read-only CMDB: a read works or fails cleanly" \
	    "unreadable CMDB: exit 7"; do
		skip "$d" "cannot drop privileges (setpriv, nobody)"
	done
else
	sum=$(sha256sum "$RO/cm.db")
	check_fail 7 'read-only' "read-only CMDB: key create exits 7, read-only" \
	    as "$CMCTL" --pin-file "$RO/ks.pin" -d "$RO/cm.db" \
	    key create -n k-ro -t ec:p256
	is "read-only CMDB: the file is unchanged" "$(sha256sum "$RO/cm.db")" "$sum"
	run as "$CMCTL" --pin-file "$RO/ks.pin" -d "$RO/cm.db" ca list
	if [ "$RC" -eq 0 ]; then
		is "read-only CMDB: ca list works" \
		    "$(field 1 "$T/out")" Root
	else
		assert "read-only CMDB: ca list fails cleanly (exit 7, one line)" \
		    sh -c '[ "$1" -eq 7 ] && [ "$(wc -l <"$2")" -eq 1 ] &&
			grep -q "^cmctl: " "$2"' sh "$RC" "$T/err"
	fi
	if [ -n "$AS" ]; then
		chmod 600 "$RO/cm.db"
	else
		chmod 755 "$RO"
		chmod 000 "$RO/cm.db"
		chmod 555 "$RO"
	fi
	check_fail 7 'cm\.db' "unreadable CMDB: key list exits 7" \
	    as "$CMCTL" --pin-file "$RO/ks.pin" -d "$RO/cm.db" key list
fi

check_fail 7 '' "a directory as CMDB: exit 7" cm -d "$T" key list

sqlite3 "$CM_DB" ".backup '$T/damaged.db'" || die "backup"
head -c 6000 "$T/damaged.db" >"$T/damaged.db.tmp"
mv "$T/damaged.db.tmp" "$T/damaged.db"
check_fail 7 '' "a truncated CMDB: exit 7" cm -d "$T/damaged.db" key list

# --- a CMDB locked by another writer ---------------------------------------------

cmdb_snapshot "$T/lock.before"
mkfifo "$T/lock.fifo" || die "mkfifo"
sqlite3 "$CM_DB" <"$T/lock.fifo" >"$T/lock.out" 2>&1 &
HOLDER=$!
bg_track "$HOLDER"
exec 3>"$T/lock.fifo"
# The holder waits for the lock: the probe below takes it for a moment.
printf ".timeout 10000\nBEGIN IMMEDIATE;\nINSERT INTO counters VALUES ('x', 1);\n" >&3

# Wait until the holder really has the write lock.
locked=no
i=0
while [ $i -lt 100 ]; do
	if ! sqlite3 "$CM_DB" 'PRAGMA busy_timeout = 0; BEGIN IMMEDIATE; ROLLBACK;' \
	    >/dev/null 2>&1; then
		locked=yes
		break
	fi
	sleep 0.1
	i=$((i + 1))
done
[ "$locked" = yes ] || die "the sqlite3 lock holder did not take the lock"

t0=$(now_ms)
check_fail 8 'locked' "key create on a locked CMDB exits 8 (busy)" \
    cm -c "$T/fast.conf" key create -n k-locked -t ec:p256
t1=$(now_ms)
like "it gave up after the db.busy-timeout of cm.conf, not the default 5 s" \
    "$((t1 - t0))" '^([0-9]{1,3}|[0-3][0-9]{3})$'
check "reading works while another writer holds the lock (WAL)" \
    cm -c "$T/fast.conf" key list

# The holder ends: its transaction is rolled back.
exec 3>&-
wait "$HOLDER"
bg_untrack "$HOLDER"
cmdb_snapshot "$T/lock.after"
assert_same_snapshot "the refused key create left the CMDB unchanged" \
    "$T/lock.before" "$T/lock.after"
check "after the holder ends, the same command works" \
    cm -c "$T/fast.conf" key create -n k-locked -t ec:p256
run cm key list
is "and the key is there" "$(line_for k-locked "$T/out" | field 1)" k-locked

done_testing
