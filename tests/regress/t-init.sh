#!/bin/sh
# t-init.sh: cmctl init, opening the CMDB, and where the CMDB is found.
# shellcheck source=tests/regress/lib.sh
. "$(dirname "$0")/lib.sh"

plan 32

# --- a new CMDB ------------------------------------------------------------

check "init creates a CMDB" cm init
assert "the CMDB file is at \$CM_DB" test -f "$CM_DB"
is "application_id is 0x4f434d44 (OCMD)" \
    "$(sqlv "$CM_DB" 'PRAGMA application_id')" 1329810756
is "journal_mode is wal" "$(sqlv "$CM_DB" 'PRAGMA journal_mode')" wal
v=$(sqlv "$CM_DB" 'PRAGMA user_version')
like "user_version is 1 or more" "$v" '^[1-9][0-9]*$'
is "foreign_key_check finds nothing" \
    "$(sqlv "$CM_DB" 'PRAGMA foreign_key_check')" ""

# --- init never writes over a file -----------------------------------------

cp "$CM_DB" "$T/cm.db.orig"
check_fail 6 'cm\.db' "init again is refused: the CMDB exists" cm init
assert "the refused init left the CMDB byte-identical" \
    cmp "$CM_DB" "$T/cm.db.orig"

# --- passphrase length -----------------------------------------------------

# Seven characters and a newline: the newline is not part of the passphrase.
printf '1234567\n' >"$T/short.pin"
check_fail 4 'passphrase' "a passphrase of 7 characters is refused" \
    "$CMCTL" --pin-file "$T/short.pin" -d "$T/short.db" init
refute "the refused init created no file" \
    sh -c 'ls "$1"/short.db* 2>/dev/null | grep .' sh "$T"
printf '12345678\n' >"$T/eight.pin"
check "a passphrase of 8 characters is accepted" \
    "$CMCTL" --pin-file "$T/eight.pin" -d "$T/eight.db" init

# --- opening something that is not a usable CMDB ---------------------------

check_fail 7 "$T/nowhere/nope\\.db" "a missing CMDB: key list exits 7 naming the path" \
    cm -d "$T/nowhere/nope.db" key list
check_fail 7 "$T/nope\\.db" "a missing CMDB in an existing directory: exit 7" \
    cm -d "$T/nope.db" key list
refute "key list did not create the missing CMDB" test -e "$T/nope.db"

random_file "$T/random.db" 8192
cp "$T/random.db" "$T/random.db.orig"
check_fail 7 'not a CMDB' "a file of random bytes is not a CMDB (exit 7)" \
    cm -d "$T/random.db" key list
assert "the random file is unchanged" cmp "$T/random.db" "$T/random.db.orig"

sqlite3 "$T/plain.db" 'CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);'
cp "$T/plain.db" "$T/plain.db.orig"
check_fail 7 'not a CMDB' "a plain SQLite database is not a CMDB (exit 7)" \
    cm -d "$T/plain.db" key list
assert "the plain SQLite database is unchanged" \
    cmp "$T/plain.db" "$T/plain.db.orig"

cp "$T/cm.db.orig" "$T/newer.db"
sqlite3 "$T/newer.db" 'PRAGMA user_version = 999'
cp "$T/newer.db" "$T/newer.db.orig"
check_fail 7 'newer' "a CMDB of schema version 999 is refused as newer" \
    cm -d "$T/newer.db" key list
assert "the newer CMDB is unchanged" cmp "$T/newer.db" "$T/newer.db.orig"

# --- where the CMDB is: -d, then $CM_DB, then db.path, then XDG ------------

# only_file DESC WANTED OTHER...: the last command succeeded and made WANTED
# but none of the others.
only_file() {
	_of_desc=$1
	_of_want=$2
	shift 2
	_of_bad=
	[ -f "$_of_want" ] || _of_bad="$_of_want is missing"
	for _of in "$@"; do
		[ -e "$_of" ] && _of_bad="$_of_bad; $_of exists"
	done
	if [ "$RC" -eq 0 ] && [ -z "$_of_bad" ]; then
		pass "$_of_desc"
	else
		fail "$_of_desc"
		diag "exit status $RC $_of_bad"
		diag_file "$T/err"
	fi
}

# conf FILE DBPATH: a cm.conf whose db.path is DBPATH.
conf() {
	mkdir -p "$(dirname "$1")"
	printf '# opencm test\ndb.path = %s\n' "$2" >"$1"
}

R=$T/r1
mkdir -p "$R/xdg"
conf "$R/cm.conf" "$R/conf.db"
run env CM_DB="$R/env.db" XDG_DATA_HOME="$R/xdg" \
    "$CMCTL" --pin-file "$PIN" -c "$R/cm.conf" -d "$R/opt.db" init
only_file "-d beats \$CM_DB, db.path and XDG_DATA_HOME" "$R/opt.db" \
    "$R/env.db" "$R/conf.db" "$R/xdg/opencm/cm.db"

R=$T/r2
mkdir -p "$R/xdg"
conf "$R/cm.conf" "$R/conf.db"
run env CM_DB="$R/env.db" XDG_DATA_HOME="$R/xdg" \
    "$CMCTL" --pin-file "$PIN" -c "$R/cm.conf" init
only_file "\$CM_DB beats db.path and XDG_DATA_HOME" "$R/env.db" \
    "$R/conf.db" "$R/xdg/opencm/cm.db"

R=$T/r3
mkdir -p "$R/xdg"
conf "$R/cm.conf" "$R/conf.db"
run env -u CM_DB XDG_DATA_HOME="$R/xdg" \
    "$CMCTL" --pin-file "$PIN" -c "$R/cm.conf" init
only_file "db.path of the -c file beats XDG_DATA_HOME" "$R/conf.db" \
    "$R/xdg/opencm/cm.db"
run env -u CM_DB XDG_DATA_HOME="$R/xdg" \
    "$CMCTL" --pin-file "$PIN" -c "$R/cm.conf" key list
is "a later command with the same -c finds that CMDB" "$RC" 0

R=$T/r4
mkdir -p "$R/xdg"
conf "$R/env.conf" "$R/env-conf.db"
conf "$R/cm.conf" "$R/conf.db"
run env -u CM_DB CM_CONF="$R/env.conf" XDG_DATA_HOME="$R/xdg" \
    "$CMCTL" --pin-file "$PIN" -c "$R/cm.conf" init
only_file "-c beats \$CM_CONF" "$R/conf.db" "$R/env-conf.db" \
    "$R/xdg/opencm/cm.db"

R=$T/r5
mkdir -p "$R/xdg"
conf "$R/env.conf" "$R/env-conf.db"
conf "$R/xdgconf/opencm/cm.conf" "$R/xdg-conf.db"
run env -u CM_DB CM_CONF="$R/env.conf" XDG_DATA_HOME="$R/xdg" \
    XDG_CONFIG_HOME="$R/xdgconf" "$CMCTL" --pin-file "$PIN" init
only_file "without -c, \$CM_CONF names cm.conf" "$R/env-conf.db" \
    "$R/xdg-conf.db" "$R/xdg/opencm/cm.db"

R=$T/r6
mkdir -p "$R/xdg"
conf "$R/xdgconf/opencm/cm.conf" "$R/xdg-conf.db"
run env -u CM_DB -u CM_CONF XDG_DATA_HOME="$R/xdg" \
    XDG_CONFIG_HOME="$R/xdgconf" "$CMCTL" --pin-file "$PIN" init
only_file "without -c or \$CM_CONF, \$XDG_CONFIG_HOME/opencm/cm.conf is read" \
    "$R/xdg-conf.db" "$R/xdg/opencm/cm.db"

R=$T/r7
mkdir -p "$R/xdg" "$R/xdgconf"
run env -u CM_DB -u CM_CONF XDG_DATA_HOME="$R/xdg" \
    XDG_CONFIG_HOME="$R/xdgconf" "$CMCTL" --pin-file "$PIN" init
only_file "with nothing else, the CMDB is \$XDG_DATA_HOME/opencm/cm.db" \
    "$R/xdg/opencm/cm.db"
run env -u CM_DB -u CM_CONF XDG_DATA_HOME="$R/xdg" \
    XDG_CONFIG_HOME="$R/xdgconf" "$CMCTL" --pin-file "$PIN" key list
is "a later command finds the CMDB at \$XDG_DATA_HOME/opencm/cm.db" "$RC" 0

R=$T/r8
mkdir -p "$R/home"
run env -u CM_DB -u CM_CONF -u XDG_DATA_HOME -u XDG_CONFIG_HOME \
    HOME="$R/home" "$CMCTL" --pin-file "$PIN" init
only_file "without XDG_DATA_HOME, the CMDB is ~/.local/share/opencm/cm.db" \
    "$R/home/.local/share/opencm/cm.db"

# --- cm.conf errors ----------------------------------------------------------

printf '# opencm test\n\ndb.busy-timeout = 300\nno.such-key = 1\n' \
    >"$T/bad.conf"
check_fail 3 'bad\.conf' "an unknown cm.conf key is an error naming the file" \
    cm -c "$T/bad.conf" key list
like "the message names line 4 and the key" "$(cat "$T/err")" \
    '(:4([^0-9]|$)|line 4).*no\.such-key|no\.such-key.*(:4([^0-9]|$)|line 4)'

done_testing
