# lib-hsm.sh: SoftHSM2 tokens for the regress tests.  Sourced after lib.sh.
# shellcheck shell=sh
#
#   hsm_init            a private SoftHSM2 configuration in $T/hsm
#                       ($SOFTHSM2_CONF), and $P11MOD, its module
#   hsm_token LABEL PIN [SOPIN]
#                       a new token; its serial in $HSM_SERIAL
#   hsm_conf LABEL...   $T/cm.conf ($CM_CONF): the module as pkcs11.1, and
#                       for each LABEL a PIN file $T/LABEL.pin named in
#                       token.LABEL.pin-file (write the PIN there)
#   p11 ARGS...         pkcs11-tool on $P11MOD (a tool nobody here wrote)
#   hsm_ceremony DIR    the bootstrap ceremony's HSM variant in DIR: the
#                       HSM "CA HSM" (PIN 1111), officer cards "Officer 1
#                       card" (2222) and "Officer 2 card" (3333); its
#                       output in $T/ceremony.out

P11MOD=/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so
[ -f "$P11MOD" ] || P11MOD=/usr/lib/softhsm/libsofthsm2.so

hsm_init() {
	command -v softhsm2-util >/dev/null 2>&1 && [ -f "$P11MOD" ] ||
	    die "softhsm2 is not installed (scripts/setup installs it)"
	command -v pkcs11-tool >/dev/null 2>&1 ||
	    die "pkcs11-tool is not installed (package opensc)"
	mkdir -p "$T/hsm/tokens"
	printf 'directories.tokendir = %s\nobjectstore.backend = file\n%s\n' \
	    "$T/hsm/tokens" 'log.level = ERROR' >"$T/hsm/softhsm2.conf"
	SOFTHSM2_CONF=$T/hsm/softhsm2.conf
	export SOFTHSM2_CONF
}

_hsm_serials() {
	softhsm2-util --show-slots | awk '/Serial number:/ && NF == 3 {
		print $3 }' | sort
}

hsm_token() {
	_hsm_serials >"$T/hsm/serials.before"
	must softhsm2-util --init-token --free --label "$1" --pin "$2" \
	    --so-pin "${3:-12345678}"
	HSM_SERIAL=$(_hsm_serials | comm -13 "$T/hsm/serials.before" -)
}

hsm_conf() {
	{
		printf 'pkcs11.1 = %s\n' "$P11MOD"
		for _hc_l in "$@"; do
			printf 'token.%s.pin-file = %s\n' "$_hc_l" "$T/$_hc_l.pin"
		done
	} >"$T/cm.conf"
	CM_CONF=$T/cm.conf
	export CM_CONF
}

p11() {
	pkcs11-tool --module "$P11MOD" "$@"
}

hsm_ceremony() {
	mkdir -p "$1"
	hsm_token "CA HSM" 1111
	hsm_token "Officer 1 card" 2222
	hsm_token "Officer 2 card" 3333
	printf '1111\n' >"$1/CA HSM.pin"
	printf '2222\n' >"$1/Officer 1 card.pin"
	printf '3333\n' >"$1/Officer 2 card.pin"
	run env CEREMONY_PKCS11="$P11MOD" CMCTL="$CMCTL" \
	    HWSETUP="$(dirname "$CMCTL")/cm-hwsetup" \
	    sh "$top_srcdir/scripts/bootstrap-ceremony" --hsm "CA HSM" \
	    --cards "Officer 1 card,Officer 2 card" "$1" "C=SE,O=Example"
	cp "$T/out" "$T/ceremony.out"
	if [ "$RC" -ne 0 ]; then
		_show_run ceremony
		die "the ceremony failed"
	fi
}
