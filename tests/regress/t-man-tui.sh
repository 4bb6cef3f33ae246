#!/bin/sh
# t-man-tui.sh: cm-awb.8 and cm-ra.8 are clean mdoc, name every option of
# the programs, and their KEY BINDINGS sections document every key bound:
# the keys of every view (read from the tui_action tables in the sources)
# and the keys of the widget layer (lists, forms, dialogs, menus).
# shellcheck source=tests/regress/lib.sh
. "$(dirname "$0")/lib.sh"

plan 12

MANDOC=${MANDOC:-mandoc}
[ "$MANDOC" = no ] && MANDOC=
# The keys ui/tui binds for every program: its main loop (tui_run), forms
# (tui_form), yes/no questions, menus and the pager.
WIDGET_KEYS="Up Down PgUp PgDn Home End Left Right Tab Shift-Tab Enter F1
    F2 F5 F10 q ? Esc Space y n Ctrl-U Backspace Delete"

# bound_keys FILE...: the keynames of the tui_action tables, one a line.
bound_keys() {
	sed -n 's/^[[:space:]]*{ *[^,]*, *"\([^"]*\)",.*/\1/p' "$@" | sort -u
}

# documented_keys PAGE: the keys an .It Cm or Cm of KEY BINDINGS names.
documented_keys() {
	sed -n '/^\.Sh KEY BINDINGS/,/^\.Sh /p' "$1" |
	    grep -oE 'Cm [^ ]+' | sed 's/^Cm //; s/\\&$//' | sort -u
}

for prog in cm-awb cm-ra; do
	page=$top_srcdir/man/$prog.8
	case $prog in
	cm-awb)	src="$top_srcdir/ui/awb/awb.c $top_srcdir/ui/awb/awb-views.c"
		bin=$top_builddir/cm-awb ;;
	cm-ra)	src="$top_srcdir/ui/ra/ra.c"
		bin=$top_builddir/cm-ra ;;
	esac
	if [ -n "$MANDOC" ] && command -v "$MANDOC" >/dev/null 2>&1; then
		run "$MANDOC" -Tlint -W warning "$page"
		is "mandoc -Tlint -W warning finds nothing in $prog.8" \
		    "$RC $(cat "$T/out" "$T/err")" "0 "
	else
		skip "mandoc -Tlint finds nothing in $prog.8" "no mandoc"
	fi
	# shellcheck disable=SC2086
	bound_keys $src >"$T/bound"
	like "$prog binds view keys (the sources were read)" \
	    "$(wc -l <"$T/bound")" '^ *([5-9]|[1-9][0-9])$'
	documented_keys "$page" >"$T/documented"
	printf '%s\n' $WIDGET_KEYS | sort -u >>"$T/bound"
	sort -u -o "$T/bound" "$T/bound"
	is "every key $prog binds is in the KEY BINDINGS of $prog.8" \
	    "$(comm -23 "$T/bound" "$T/documented" | tr '\n' ' ')" ""
	run "$bin" --help
	is "$prog --help exits 0" "$RC" 0
	grep -oE '(^|[][ (|,])--?[A-Za-z][A-Za-z0-9-]*' "$T/out" |
	    sed 's/^[][ (|,]//' | sort -u >"$T/opts"
	missing=
	while read -r o; do
		n=${o#-}
		grep -Eq "Fl $n( |\$)" "$page" || missing="$missing $o"
	done <"$T/opts"
	is "every option of $prog --help is in $prog.8" "$missing" ""
	run "$bin" </dev/null
	like "$prog without a terminal says so and exits 2" "$RC $(cat "$T/err")" \
	    '^2 .*needs a terminal'
done

done_testing
