# lib-pcsc.sh: pcscd with the vsmartcard virtual reader (vpcd) and a
# virtual card (vicc), for the regress and TUI tests.  Sourced after
# lib.sh.  Each daemon is started by the test and stopped by its pid.
# shellcheck shell=sh
#
#   pcsc_start       pcscd in the foreground with a private reader
#                    configuration (vpcd on port $VPCD_PORT: readers
#                    "Virtual PCD 00 00" and "00 01"); skips the whole test
#                    when another pcscd runs (there is one per machine).
#                    Tests that use pcscd take $PCSC_LOCK first.
#   pcsc_stop        stop pcscd (its cards go with it)
#   vicc_start       insert the virtual card (ISO 7816) into reader 00 00
#   vicc_stop        remove it
#   PCSC_ATR         the card's ATR, as cmctl prints it

VPCD_PORT=40000
PCSC_ATR="3B 95 13 81 01 80 73 FF 01 00 0B"
PCSC_LOCK=/tmp/opencm-pcscd.lock
PCSCD=
VICC=

_pcsc_readers_up() {
	"$CMCTL" card readers 2>/dev/null | grep -q 'Virtual PCD 00 00'
}

pcsc_start() {
	for _p in pcscd vicc flock; do
		command -v "$_p" >/dev/null 2>&1 ||
		    die "$_p is not installed (scripts/setup installs it)"
	done
	# One pcscd per machine: the tests that need it take turns.
	exec 9>"$PCSC_LOCK"
	flock -w 300 9 || die "waited 300 s for $PCSC_LOCK"
	if [ -S /run/pcscd/pcscd.comm ] && "$CMCTL" card readers \
	    >/dev/null 2>&1; then
		echo "1..0 # SKIP a pcscd not started by this test is running"
		exit 0
	fi
	mkdir -p "$T/readers" "$T/shim"
	printf 'FRIENDLYNAME "Virtual PCD"\nDEVICENAME /dev/null:0x%X\n%s\nCHANNELID 0x%X\n' \
	    "$VPCD_PORT" 'LIBPATH /usr/lib/pcsc/drivers/serial/libifdvpcd.so' \
	    "$VPCD_PORT" >"$T/readers/vpcd"
	# vicc wants PyCrypto's name for pycryptodome (TESTING.md).
	ln -sf /usr/lib/python3/dist-packages/Cryptodome "$T/shim/Crypto"
	# The daemons do not hold the lock: it ends with the test.
	pcscd -f -c "$T/readers" >"$T/pcscd.log" 2>&1 9>&- &
	PCSCD=$!
	bg_track "$PCSCD"
	_n=100
	while ! _pcsc_readers_up; do
		kill -0 "$PCSCD" 2>/dev/null || {
			diag_file "$T/pcscd.log"
			die "pcscd exited"
		}
		_n=$((_n - 1))
		[ "$_n" -gt 0 ] || die "pcscd shows no reader after 10 s"
		sleep 0.1
	done
}

pcsc_stop() {
	vicc_stop
	if [ -n "$PCSCD" ]; then
		kill "$PCSCD" 2>/dev/null
		wait "$PCSCD" 2>/dev/null
		bg_untrack "$PCSCD"
		PCSCD=
	fi
}

vicc_start() {
	PYTHONPATH=/usr/lib/python3/site-packages/virtualsmartcard:$T/shim \
	    /usr/bin/python3 /usr/bin/vicc -t iso7816 -P "$VPCD_PORT" \
	    >"$T/vicc.log" 2>&1 9>&- &
	VICC=$!
	bg_track "$VICC"
}

vicc_stop() {
	if [ -n "$VICC" ]; then
		kill "$VICC" 2>/dev/null
		wait "$VICC" 2>/dev/null
		bg_untrack "$VICC"
		VICC=
	fi
}
