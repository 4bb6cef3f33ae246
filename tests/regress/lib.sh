# lib.sh: helpers for the opencm regress tests.  Sourced, never run.
# shellcheck shell=sh
#
# Every t-*.sh test sources this file first.  It makes a private temporary
# directory $T (removed on exit; set OPENCM_KEEP=1 to keep it), points
# HOME, XDG_* and CM_DB into it so that nothing leaks in or out, writes the
# key store passphrase to $PIN, and offers:
#
#   TAP       plan N, check, check_fail, check_refused, assert, refute, is,
#             isnt, like, unlike, pass, fail, skip, diag, done_testing
#   running   cm ARGS (cmctl with --pin-file), run CMD (output to $T/out,
#             $T/err, status in $RC)
#   CMDB      cmdb_snapshot FILE [DB], sqlv DB SQL
#   PKI       pki_init, mkkey, mkroot, mksub, mkproc, pki_basic, mkcsr,
#             mkcsr_alg, issue_cert, export_ca
#   X.509     pem2der, pem_count, pem_split, keyid_of, ski_of, aki_of,
#             crl_aki_of, crl_number_of, crl_entries, normserial, to_epoch
#
# Conventions: check, check_fail and run leave the command's standard output
# in $T/out and its standard error in $T/err.  assert and refute keep their
# command's output apart (in $T/assert.out), so "assert DESC grep X $T/out"
# looks at the output of the last cmctl command.

LC_ALL=C
TZ=UTC
export LC_ALL TZ
# The default OpenSSL configuration only (TESTING.md: OPENSSL_CONF overrides
# it, e.g. with an engine section).
unset OPENSSL_CONF OPENSSL_ENGINES OPENSSL_MODULES CM_CONF CM_DB \
    XDG_DATA_DIRS XDG_CONFIG_DIRS 2>/dev/null

_tap_n=0
_tap_plan=
_tap_failed=0

# ---------------------------------------------------------------- TAP

_tap_desc() {
	# A '#' in a description would read as a TAP directive.
	printf '%s' "$*" | tr '#\n\t' '_  '
}

plan() {
	_tap_plan=$1
	echo "1..$1"
}

# diag TEXT...: a diagnostic line (or lines) for the log.
diag() {
	printf '%s\n' "$*" | sed 's/^/# /'
}

# diag_file FILE [LINES]: the first lines of FILE as diagnostics.
diag_file() {
	if [ -s "$1" ]; then
		sed -n "1,${2:-15}p" "$1" | sed 's/^/#   /'
	fi
}

pass() {
	_tap_n=$((_tap_n + 1))
	printf 'ok %d - %s\n' "$_tap_n" "$(_tap_desc "$1")"
}

fail() {
	_tap_n=$((_tap_n + 1))
	_tap_failed=$((_tap_failed + 1))
	printf 'not ok %d - %s\n' "$_tap_n" "$(_tap_desc "$1")"
}

# skip DESC REASON
skip() {
	_tap_n=$((_tap_n + 1))
	printf 'ok %d - %s # SKIP %s\n' "$_tap_n" "$(_tap_desc "$1")" \
	    "$(_tap_desc "$2")"
}

# done_testing: say so when the plan was not kept, and end the script.
done_testing() {
	if [ -n "$_tap_plan" ] && [ "$_tap_n" -ne "$_tap_plan" ]; then
		diag "planned $_tap_plan tests but ran $_tap_n"
	fi
	exit 0
}

# run CMD...: run a command, stdout in $T/out, stderr in $T/err, status in
# $RC.  Nothing is printed.
run() {
	"$@" >"$T/out.tmp" 2>"$T/err.tmp"
	RC=$?
	mv -f "$T/out.tmp" "$T/out"
	mv -f "$T/err.tmp" "$T/err"
	return 0
}

_show_run() {
	diag "command: $*"
	diag "exit status $RC"
	if [ -s "$T/err" ]; then
		diag "stderr:"
		diag_file "$T/err"
	fi
	if [ -s "$T/out" ]; then
		diag "stdout:"
		diag_file "$T/out" 8
	fi
}

# check DESC CMD...: ok when CMD exits 0.
check() {
	_c_desc=$1
	shift
	run "$@"
	if [ "$RC" -eq 0 ]; then
		pass "$_c_desc"
		return 0
	fi
	fail "$_c_desc"
	_show_run "$@"
	return 1
}

# stderr_one_line FILE PATTERN: FILE holds exactly one line, which starts
# with "cmctl: " and matches the extended regular expression PATTERN.
_stderr_problem=
stderr_one_line() {
	_so_n=$(awk 'END { print NR }' "$1")
	if [ "$_so_n" -ne 1 ]; then
		_stderr_problem="stderr has $_so_n lines, not one"
		return 1
	fi
	if ! grep -q '^cmctl: ' "$1"; then
		_stderr_problem="stderr does not start with \"cmctl: \""
		return 1
	fi
	if ! grep -Eq -- "$2" "$1"; then
		_stderr_problem="stderr does not match /$2/"
		return 1
	fi
	return 0
}

# check_fail STATUS PATTERN DESC CMD...: ok when CMD exits with STATUS (an
# extended regular expression over the number, e.g. 7 or "3|4") and prints
# exactly one line on stderr, "cmctl: ..." matching PATTERN.
check_fail() {
	_c_status=$1
	_c_pat=$2
	_c_desc=$3
	shift 3
	run "$@"
	if ! printf '%s\n' "$RC" | grep -Eqx -- "$_c_status"; then
		fail "$_c_desc"
		diag "expected exit status $_c_status"
		_show_run "$@"
		return 1
	fi
	if ! stderr_one_line "$T/err" "$_c_pat"; then
		fail "$_c_desc"
		diag "$_stderr_problem"
		_show_run "$@"
		return 1
	fi
	pass "$_c_desc"
	return 0
}

# check_refused STATUS PATTERN DESC CMD...: check_fail, then a second test
# that the CMDB ($CM_DB) apart from its audit log is as it was before.
check_refused() {
	cmdb_snapshot "$T/snap.before"
	check_fail "$@"
	cmdb_snapshot "$T/snap.after"
	assert_same_snapshot "$3: CMDB unchanged" "$T/snap.before" \
	    "$T/snap.after"
}

assert_same_snapshot() {
	if cmp -s "$2" "$3"; then
		pass "$1"
	else
		fail "$1"
		diff "$2" "$3" | sed -n '1,20p' | sed 's/^/#   /'
	fi
}

# assert DESC CMD...: ok when CMD (a predicate) exits 0.
assert() {
	_a_desc=$1
	shift
	if "$@" >"$T/assert.out" 2>&1; then
		pass "$_a_desc"
		return 0
	fi
	fail "$_a_desc"
	diag "command: $*"
	diag_file "$T/assert.out"
	return 1
}

# refute DESC CMD...: ok when CMD exits non-zero.
refute() {
	_a_desc=$1
	shift
	if "$@" >"$T/assert.out" 2>&1; then
		fail "$_a_desc"
		diag "command succeeded: $*"
		diag_file "$T/assert.out"
		return 1
	fi
	pass "$_a_desc"
	return 0
}

# is DESC GOT WANT
is() {
	if [ "$2" = "$3" ]; then
		pass "$1"
		return 0
	fi
	fail "$1"
	diag "got:  '$2'"
	diag "want: '$3'"
	return 1
}

# isnt DESC GOT UNWANTED
isnt() {
	if [ "$2" != "$3" ]; then
		pass "$1"
		return 0
	fi
	fail "$1"
	diag "got '$2', which it must not be"
	return 1
}

# like DESC STRING ERE: STRING matches the extended regular expression.
like() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then
		pass "$1"
		return 0
	fi
	fail "$1"
	diag "'$2'"
	diag "does not match /$3/"
	return 1
}

unlike() {
	if printf '%s\n' "$2" | grep -Eq -- "$3"; then
		fail "$1"
		diag "'$2'"
		diag "matches /$3/"
		return 1
	fi
	pass "$1"
	return 0
}

# die MESSAGE: give up on the whole test (a setup step failed).
die() {
	echo "Bail out! $(_tap_desc "$*")"
	exit 1
}

# must CMD...: run a setup step; bail out when it fails.
must() {
	run "$@"
	if [ "$RC" -ne 0 ]; then
		_show_run "$@"
		die "setup step failed: $*"
	fi
}

# ------------------------------------------------------- environment

if [ -z "${CMCTL:-}" ]; then
	CMCTL=${top_builddir:-.}/cmctl
fi
case $CMCTL in
/*)	;;
*)	CMCTL=$(pwd)/$CMCTL ;;
esac
if [ -z "${top_srcdir:-}" ]; then
	top_srcdir=$(cd "$(dirname "$0")/../.." && pwd)
fi
case $top_srcdir in
/*)	;;
*)	top_srcdir=$(cd "$top_srcdir" && pwd) ;;
esac
top_builddir=${top_builddir:-$top_srcdir}
export CMCTL top_srcdir top_builddir

if [ ! -x "$CMCTL" ]; then
	echo "1..0 # SKIP no cmctl binary at $CMCTL"
	exit 0
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/opencm-regress.XXXXXX") ||
    die "mktemp -d failed"
_bg_pids=

_cleanup() {
	for _p in $_bg_pids; do
		kill "$_p" 2>/dev/null
		wait "$_p" 2>/dev/null
	done
	_bg_pids=
	cd / || :
	if [ -n "${OPENCM_KEEP:-}" ]; then
		echo "# kept $T"
	else
		chmod -R u+rwX "$T" 2>/dev/null
		rm -rf "$T"
	fi
}
trap '_cleanup' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 141' PIPE

# bg_track PID: kill this background process (by its id) when the test ends.
bg_track() {
	_bg_pids="$_bg_pids $1"
}

# bg_untrack PID: it has ended.
bg_untrack() {
	_nl=
	for _p in $_bg_pids; do
		[ "$_p" = "$1" ] || _nl="$_nl $_p"
	done
	_bg_pids=$_nl
}

HOME=$T
XDG_DATA_HOME=$T/xdg/data
XDG_CONFIG_HOME=$T/xdg/config
XDG_CACHE_HOME=$T/xdg/cache
XDG_STATE_HOME=$T/xdg/state
XDG_RUNTIME_DIR=$T/xdg/run
export HOME XDG_DATA_HOME XDG_CONFIG_HOME XDG_CACHE_HOME XDG_STATE_HOME \
    XDG_RUNTIME_DIR
mkdir -p "$XDG_DATA_HOME" "$XDG_CONFIG_HOME" "$XDG_CACHE_HOME" \
    "$XDG_STATE_HOME" "$XDG_RUNTIME_DIR" || die "mkdir $T/xdg"
chmod 700 "$XDG_RUNTIME_DIR"

CM_DB=$T/cm.db
export CM_DB

umask 077
PASSPHRASE='correct horse battery'
PIN=$T/ks.pin
printf '%s\n' "$PASSPHRASE" >"$PIN"

cd "$T" || die "cd $T"

# cm ARGS...: cmctl with the key store passphrase file.
cm() {
	"$CMCTL" --pin-file "$PIN" "$@"
}

# ------------------------------------------------------------- CMDB

# sqlv DB SQL: one value (or rows) from the CMDB, read-only.
sqlv() {
	sqlite3 -readonly -batch "$1" "$2"
}

# cmdb_snapshot FILE [DB]: the schema, the application id and version and
# every row of every table but the audit log (and the counters that only
# follow the audit log), in a stable order.  Two snapshots are equal when
# nothing but the audit log changed.
cmdb_snapshot() {
	_db=${2:-$CM_DB}
	{
		if [ ! -e "$_db" ]; then
			echo "no file $_db"
		else
			sqlite3 -readonly -batch "$_db" \
			    'PRAGMA application_id; PRAGMA user_version;' 2>&1
			sqlite3 -readonly -batch "$_db" "SELECT type, name, \
			    tbl_name, sql FROM sqlite_master ORDER BY type, \
			    name" 2>&1
			for _t in $(sqlite3 -readonly -batch "$_db" "SELECT \
			    name FROM sqlite_master WHERE type = 'table' AND \
			    name <> 'audit' AND name NOT LIKE 'sqlite\_%' \
			    ESCAPE '\' ORDER BY name"); do
				echo "== table $_t"
				_w=
				if [ "$_t" = counters ]; then
					_w="WHERE name NOT LIKE 'audit%'"
				fi
				sqlite3 -readonly -batch -cmd '.mode quote' \
				    "$_db" "SELECT * FROM \"$_t\" $_w" 2>&1 |
				    sort
			done
		fi
	} >"$1"
}

# --------------------------------------------------------------- PKI

pki_init() {
	must cm init
}

# mkkey NAME TYPE
mkkey() {
	must cm key create -n "$1" -t "$2"
}

# mkroot NAME TYPE [ca create options]: a key NAME-key and a self-signed CA.
mkroot() {
	_mr_n=$1
	_mr_k=$2
	shift 2
	mkkey "$_mr_n-key" "$_mr_k"
	must cm ca create -n "$_mr_n" -k "$_mr_n-key" \
	    -s "C=SE,O=opencm test,CN=$_mr_n CA" --self-signed "$@"
}

# mksub NAME ISSUER TYPE [ca create options]
mksub() {
	_ms_n=$1
	_ms_i=$2
	_ms_k=$3
	shift 3
	mkkey "$_ms_n-key" "$_ms_k"
	must cm ca create -n "$_ms_n" -k "$_ms_n-key" \
	    -s "C=SE,O=opencm test,CN=$_ms_n CA" -i "$_ms_i" "$@"
}

# mkproc NAME CA FORMAT [cert-procedure create options]
mkproc() {
	_mp_n=$1
	_mp_c=$2
	_mp_f=$3
	shift 3
	must cm cert-procedure create -n "$_mp_n" --ca "$_mp_c" \
	    --format "$_mp_f" "$@"
}

# pki_basic: a CMDB with Root (ec:p256, self-signed), Sub (ec:p256, issued
# by Root) and the certificate procedure Server (format server, CA Sub).
pki_basic() {
	pki_init
	mkroot Root ec:p256
	mksub Sub Root ec:p256
	mkproc Server Sub server
}

# mkcsr NAME SUBJECT [openssl req options...]: $T/NAME.key (EC P-256) and
# $T/NAME.csr (PEM).
mkcsr() {
	mkcsr_alg ec:P-256 "$@"
}

# mkcsr_alg ALG NAME SUBJECT [openssl req options...]: as mkcsr, with a key
# of type ALG: rsa:BITS, ec:CURVE or ed25519.
mkcsr_alg() {
	_mc_a=$1
	_mc_n=$2
	_mc_s=$3
	shift 3
	case $_mc_a in
	rsa:*)	set -- -newkey "$_mc_a" "$@" ;;
	ec:*)	set -- -newkey ec -pkeyopt "ec_paramgen_curve:${_mc_a#ec:}" "$@" ;;
	ed25519) set -- -newkey ed25519 "$@" ;;
	*)	die "mkcsr_alg: unknown key type $_mc_a" ;;
	esac
	openssl req -new "$@" -nodes -keyout "$T/$_mc_n.key" -subj "$_mc_s" \
	    -out "$T/$_mc_n.csr" >"$T/openssl.log" 2>&1 || {
		diag_file "$T/openssl.log"
		die "openssl req for $_mc_n failed"
	}
}

# issue_cert NAME PROCEDURE SUBJECT [issue options]: a request and a
# certificate $T/NAME.pem; its serial in $SERIAL and in $T/NAME.serial.
issue_cert() {
	_ic_n=$1
	_ic_p=$2
	_ic_s=$3
	shift 3
	mkcsr "$_ic_n" "$_ic_s"
	must cm issue -p "$_ic_p" --csr "$T/$_ic_n.csr" -o "$T/$_ic_n.pem" "$@"
	SERIAL=$(tr -d ' \r\n' <"$T/out")
	[ -n "$SERIAL" ] || die "issue printed no serial for $_ic_n"
	printf '%s\n' "$SERIAL" >"$T/$_ic_n.serial"
}

# export_ca NAME FILE
export_ca() {
	must cm ca export "$1" -o "$2"
}

# ------------------------------------------------------------- X.509

# pem2der IN OUT [N]: the Nth (default first) PEM block of IN, decoded
# byte for byte (no re-encoding by openssl).
pem2der() {
	awk -v want="${3:-1}" '
		/^-----BEGIN / { n++; inb = (n == want); next }
		/^-----END /   { inb = 0; next }
		inb            { print }
	' "$1" | base64 -d >"$2"
}

# pem_count FILE: how many PEM certificates FILE holds.
pem_count() {
	grep -c -- '^-----BEGIN CERTIFICATE-----' "$1"
}

# pem_split FILE PREFIX: PREFIX.1.pem, PREFIX.2.pem, ...
pem_split() {
	awk -v p="$2" '
		/^-----BEGIN / { n++ }
		n > 0          { print > (p "." n ".pem") }
	' "$1"
}

# fingerprint FILE [DER]: the SHA-256 fingerprint of the (first) certificate.
fingerprint() {
	if [ "${2:-}" = DER ]; then
		openssl x509 -inform DER -in "$1" -noout -fingerprint -sha256
	else
		openssl x509 -in "$1" -noout -fingerprint -sha256
	fi | sed 's/.*=//'
}

# keyid_of CERT: SHA-1 of the subjectPublicKey bit string of CERT (PEM;
# or a PEM public key), upper-case hex, computed here rather than read from
# an extension.
keyid_of() {
	if grep -q 'BEGIN PUBLIC KEY' "$1"; then
		cat "$1"
	else
		openssl x509 -in "$1" -noout -pubkey
	fi | openssl pkey -pubin -outform DER |
	    python3 -c '
import hashlib, sys

d = sys.stdin.buffer.read()

def tlv(b, i):
    tag = b[i]; i += 1
    n = b[i]; i += 1
    if n & 0x80:
        k = n & 0x7f
        n = int.from_bytes(b[i:i + k], "big"); i += k
    return tag, i, i + n            # tag, start of value, end of value

tag, s, e = tlv(d, 0)               # SubjectPublicKeyInfo SEQUENCE
assert tag == 0x30
tag, s2, e2 = tlv(d, s)             # AlgorithmIdentifier
assert tag == 0x30
tag, s3, e3 = tlv(d, e2)            # subjectPublicKey BIT STRING
assert tag == 0x03 and d[s3] == 0   # no unused bits
print(hashlib.sha1(d[s3 + 1:e3]).hexdigest().upper())
'
}

# _hexline: the value on the line after an extension title, as bare
# upper-case hex.
_hexline() {
	sed -n '2p' | sed 's/^ *//; s/^keyid://' | tr -d ' :\r' |
	    tr 'abcdef' 'ABCDEF'
}

# ski_of CERT, aki_of CERT: key identifiers as bare upper-case hex.
ski_of() {
	openssl x509 -in "$1" -noout -ext subjectKeyIdentifier | _hexline
}

aki_of() {
	openssl x509 -in "$1" -noout -ext authorityKeyIdentifier | _hexline
}

# crl_text CRL: openssl crl -text of a PEM or DER CRL.
crl_text() {
	if grep -q -- '-----BEGIN X509 CRL' "$1" 2>/dev/null; then
		openssl crl -in "$1" -noout -text
	else
		openssl crl -inform DER -in "$1" -noout -text
	fi
}

crl_aki_of() {
	crl_text "$1" | sed -n '/X509v3 Authority Key Identifier/{n;p;}' |
	    sed 's/^ *//; s/^keyid://' | tr -d ' :' | tr 'abcdef' 'ABCDEF'
}

crl_number_of() {
	crl_text "$1" | sed -n '/X509v3 CRL Number/{n;p;}' | tr -d ' '
}

crl_delta_base_of() {
	crl_text "$1" | sed -n '/X509v3 Delta CRL Indicator/{n;p;}' | tr -d ' '
}

# crl_entries CRL: one line per entry, "SERIAL<TAB>REASON<TAB>DATE", the
# serial as normserial prints it, the reason as openssl names it ("-" for
# none), the revocation date as seconds since the epoch.
crl_entries() {
	crl_text "$1" | awk '
		function flush() {
			if (ser != "")
				printf "%s\t%s\t%s\n", ser, reason, date
			ser = ""
		}
		/^Revoked Certificates:/ { inr = 1; next }
		/^    Signature Algorithm/ { flush(); inr = 0 }
		!inr { next }
		/Serial Number:/ {
			flush(); ser = $3; reason = "-"; date = ""; next
		}
		/Revocation Date:/ { sub(/^ *Revocation Date: */, ""); date = $0 }
		wantreason { sub(/^ */, ""); reason = $0; wantreason = 0; next }
		/X509v3 CRL Reason Code/ { wantreason = 1 }
		END { flush() }
	' | while IFS='	' read -r _s _r _d; do
		printf '%s\t%s\t%s\n' "$(normserial "$_s")" "$_r" \
		    "$(to_epoch "$_d")"
	done
}

# normserial SERIAL: upper-case hex without colons or leading zeros.
normserial() {
	printf '%s\n' "$1" | tr -d ': \r' | tr 'abcdef' 'ABCDEF' |
	    sed 's/^0*//; s/^$/0/'
}

# cert_serial CERT [DER]: the serial of a certificate, normalized.
cert_serial() {
	if [ "${2:-}" = DER ]; then
		_s=$(openssl x509 -inform DER -in "$1" -noout -serial)
	else
		_s=$(openssl x509 -in "$1" -noout -serial)
	fi
	normserial "${_s#serial=}"
}

# to_epoch DATE: seconds since the epoch of a date GNU date understands,
# such as "Nov 23 12:00:00 2026 GMT" or "2026-11-23T12:00:00Z".
to_epoch() {
	date -u -d "$1" +%s
}

# iso TIME_T: the ISO 8601 form cmctl prints.
iso() {
	date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ
}

# now_ms: milliseconds since the epoch.
now_ms() {
	_ns=$(date +%s%N)
	echo $((_ns / 1000000))
}

# field N [FILE]: the Nth TAB-separated field of every line.
field() {
	awk -F '\t' -v f="$1" '{ print $f }' ${2:+"$2"}
}

# line_for KEY FILE: the line of a list whose first field is KEY.
line_for() {
	awk -F '\t' -v k="$1" '$1 == k' "$2"
}

# has_bytes FILE HEX: FILE contains the bytes HEX somewhere (exit 0), or not
# (exit 1); exit 2 when HEX or FILE cannot be read.
has_bytes() {
	python3 -c '
import sys
try:
    needle = bytes.fromhex(sys.argv[2])
    data = open(sys.argv[1], "rb").read()
except Exception as e:
    print(e)
    sys.exit(2)
sys.exit(0 if needle and needle in data else 1)
' "$1" "$2"
}

# files_with_bytes HEX FILE...: print the FILEs that contain the bytes HEX;
# exit 2 when one cannot be searched.
files_with_bytes() {
	_fb_hex=$1
	shift
	for _fb in "$@"; do
		[ -f "$_fb" ] || continue
		has_bytes "$_fb" "$_fb_hex"
		case $? in
		0)	echo "$_fb" ;;
		1)	;;
		*)	return 2 ;;
		esac
	done
	return 0
}

# lines FILE: the number of lines in FILE (0 when it is empty).
lines() {
	awk 'END { print NR }' "$1"
}

# random_file FILE BYTES
random_file() {
	head -c "$2" /dev/urandom >"$1"
}
