#!/bin/sh
# t-man.sh: the man pages are clean mdoc, and cmctl's usage and its man page
# name the same options.
# shellcheck source=tests/regress/lib.sh
. "$(dirname "$0")/lib.sh"

NOUNS="init bootstrap key ca cert-procedure token-procedure subject token card
    dist-rule publish cil
    officer-profile officer change policy issue cert revoke release crl audit"
GLOBALS="-c -d --pin-file --token-pin-file --officer --officer-pin-file -q -v
    -h --help -V --version"

plan 45

MAN8=$top_srcdir/man/cmctl.8
MAN5=$top_srcdir/man/cm.conf.5
MAN7=$top_srcdir/man/cm-bootstrap.7
MANDOC=${MANDOC:-mandoc}
[ "$MANDOC" = no ] && MANDOC=
if [ -n "$MANDOC" ] && command -v "$MANDOC" >/dev/null 2>&1; then
	run "$MANDOC" -Tlint -W warning "$MAN8" "$MAN5" "$MAN7"
	is "mandoc -Tlint -W warning finds nothing in cmctl.8, cm.conf.5, cm-bootstrap.7" \
	    "$RC $(cat "$T/out" "$T/err")" "0 "
else
	skip "mandoc -Tlint -W warning finds nothing" "no mandoc"
fi

is "cmctl.8 has the sections of STYLE.md" \
    "$(sed -n 's/^\.Sh //p' "$MAN8" | tr -d '"' |
    grep -Ex 'NAME|SYNOPSIS|DESCRIPTION|FILES|EXIT STATUS|EXAMPLES|SEE ALSO|STANDARDS' |
    tr '\n' ',')" \
    "NAME,SYNOPSIS,DESCRIPTION,FILES,EXIT STATUS,EXAMPLES,SEE ALSO,STANDARDS,"

# man_options: every option the man page marks up with Fl, one per line with
# its dashes ("Fl d" is -d, "Fl -pin-file" is --pin-file, "Fl q | v" is -q
# and -v).
man_options() {
	awk '
		{
			infl = 0
			for (i = 1; i <= NF; i++) {
				w = $i
				if (w == "Fl" || w == ".Fl") { infl = 1; continue }
				if (!infl) continue
				if (w ~ /^\.?[A-Z][a-z][a-z]?$/) { infl = 0; continue }
				if (w ~ /^[|,.;:()\[\]]$/) continue
				gsub(/[,.;:]+$/, "", w)
				if (w ~ /^-?[A-Za-z0-9][A-Za-z0-9-]*$/) print "-" w
			}
		}
	' "${1:-$MAN8}" | sort -u
}

man_options >"$T/man.opts"

run "$CMCTL" --help
cat "$T/out" "$T/err" >"$T/help.txt"
is "cmctl --help exits 0" "$RC" 0
is "cmctl -h prints the same as --help" \
    "$("$CMCTL" -h 2>&1 | cksum)" "$(cksum <"$T/help.txt")"

for n in $NOUNS; do
	assert "the usage names the noun $n" \
	    grep -Eq "(^|[^a-z-])$n([^a-z-]|\$)" "$T/help.txt"
done

# The options in the usage: -x (one letter) or --word, at the start of a
# word.
grep -oE '(^|[][ (|,])--?[A-Za-z][A-Za-z0-9-]*' "$T/help.txt" |
    sed 's/^[][ (|,]//' | grep -Ex -- '-[A-Za-z]|--[a-z0-9][a-z0-9-]*' |
    sort -u >"$T/help.opts"

nhelp=$(lines "$T/help.opts")
nman=$(lines "$T/man.opts")
diag "$nhelp options in --help, $nman in cmctl.8"
like "the usage lists a plausible number of options (30 or more)" "$nhelp" \
    '^([3-9][0-9]|[1-9][0-9][0-9])$'
is "every option in the usage is documented in cmctl.8 as Fl" \
    "$(comm -23 "$T/help.opts" "$T/man.opts" | tr '\n' ' ')" ""
missing=
for o in $GLOBALS; do
	grep -qx -- "$o" "$T/help.opts" || missing="$missing $o"
done
is "every global option of cmctl.8 is in the usage" "$missing" ""
is "every option of cmctl.8 is in the usage" \
    "$(comm -13 "$T/help.opts" "$T/man.opts" | tr '\n' ' ')" ""

# --- version ---------------------------------------------------------------------------

run "$CMCTL" --version
like "cmctl --version prints a version and exits 0" \
    "$RC $(cat "$T/out")" '^0 .*[0-9]+\.[0-9]+'
is "cmctl -V prints the same" "$("$CMCTL" -V 2>&1)" "$(cat "$T/out")"

# --- usage errors: exit 2, one line ----------------------------------------------------

pki_init
check_fail 2 'frobnicate' "an unknown noun: exit 2" cm frobnicate
check_fail 2 'frobnicate' "an unknown verb: exit 2" cm key frobnicate
check_fail 2 'bogus' "an unknown option: exit 2" \
    cm key create -n k1 -t ec:p256 --bogus
check_fail 2 '' "an option without its argument: exit 2" cm key create -n
check_fail 2 '' "a missing required option: exit 2" cm key create -n k1
check_fail 2 'bogus' "an unknown global option: exit 2" "$CMCTL" --bogus key list
check_fail 2 '' "no noun at all: exit 2" cm
run cm key list
is "none of them created a key" "$(lines "$T/out")" 0

# --- cm-da and its page ------------------------------------------------------

CMDA=$(dirname "$CMCTL")/cm-da
MANDA=$top_srcdir/man/cm-da.8
if [ -n "$MANDOC" ] && command -v "$MANDOC" >/dev/null 2>&1; then
	run "$MANDOC" -Tlint -W warning "$MANDA"
	is "mandoc -Tlint -W warning finds nothing in cm-da.8" \
	    "$RC $(cat "$T/out" "$T/err")" "0 "
else
	skip "mandoc -Tlint -W warning finds nothing in cm-da.8" "no mandoc"
fi
run "$CMDA" --help
is "cm-da --help exits 0" "$RC" 0
grep -oE '(^|[][ (|,])--?[A-Za-z][A-Za-z0-9-]*' "$T/out" |
    sed 's/^[][ (|,]//' | grep -Ex -- '-[A-Za-z]|--[a-z0-9][a-z0-9-]*' |
    sort -u >"$T/da.opts"
man_options "$MANDA" >"$T/da.man"
like "cm-da's usage names its options" "$(lines "$T/da.opts")" '^[5-9]$'
is "every option of cm-da's usage is in cm-da.8" \
    "$(comm -23 "$T/da.opts" "$T/da.man" | tr '\n' ' ')" ""
run "$CMDA" --bogus
is "cm-da: an unknown option, exit 2" "$RC" 2

done_testing
