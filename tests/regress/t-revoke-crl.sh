#!/bin/sh
# t-revoke-crl.sh: revoke, hold and release; full and delta CRLs; cert list
# filters.
# shellcheck source=tests/regress/lib.sh
. "$(dirname "$0")/lib.sh"

REASONS="keyCompromise cACompromise affiliationChanged superseded \
cessationOfOperation certificateHold privilegeWithdrawn unspecified"

plan 81

pki_init
mkroot Root ec:p256
mksub Sub Root ec:p256 --crl-interval 6h --delta-interval 1h
mkproc Server Sub server
mkproc Short Sub server --validity 10d
mkproc Tiny Sub server --validity 1s
export_ca Sub "$T/sub.pem"

# openssl_reason NAME: how openssl crl -text names an RFC 5280 reason.
openssl_reason() {
	case $1 in
	keyCompromise)		echo "Key Compromise" ;;
	cACompromise)		echo "CA Compromise" ;;
	affiliationChanged)	echo "Affiliation Changed" ;;
	superseded)		echo "Superseded" ;;
	cessationOfOperation)	echo "Cessation Of Operation" ;;
	certificateHold)	echo "Certificate Hold" ;;
	privilegeWithdrawn)	echo "Privilege Withdrawn" ;;
	unspecified)		echo "-" ;;
	removeFromCRL)		echo "Remove From CRL" ;;
	esac
}

# serial_of NAME: the serial issue printed for $T/NAME.pem.
serial_of() {
	cat "$T/$1.serial"
}

# entry CRL NAME: "REASON" of the certificate NAME on CRL, empty if absent.
entry() {
	crl_entries "$1" | awk -F '\t' -v s="$(normserial "$(serial_of "$2")")" \
	    '$1 == s { print $2 }'
}

# show NAME: "STATUS REASON" from cert show.
show() {
	run cm cert show "$(serial_of "$1")"
	printf '%s %s' "$(sed -n 's/^Status: *//p' "$T/out")" \
	    "$(sed -n 's/^Reason: *//p' "$T/out")" | sed 's/ *$//'
}

# span CRL: nextUpdate - thisUpdate in seconds.
span() {
	_lu=$(openssl crl -in "$1" -noout -lastupdate | sed 's/^lastUpdate=//')
	_nu=$(openssl crl -in "$1" -noout -nextupdate | sed 's/^nextUpdate=//')
	echo $(($(to_epoch "$_nu") - $(to_epoch "$_lu")))
}

# --- delta CRLs need a full CRL and a delta interval ------------------------

check_refused 4 'Sub' "a delta CRL before any full CRL is refused" \
    cm crl issue --ca Sub --delta -o "$T/d0.crl"
refute "no delta CRL file was written" test -e "$T/d0.crl"
must cm crl issue --ca Root -o "$T/root1.crl"
check_refused 4 'Root' "a delta CRL of a CA without --delta-interval is refused" \
    cm crl issue --ca Root --delta -o "$T/rd.crl"

# Certificates for later: D is revoked with --time, tiny expires at once.
issue_cert D Server /C=SE/O=Example/CN=d.example.test
issue_cert tiny Tiny /C=SE/O=Example/CN=tiny.example.test

# --- every reason ---------------------------------------------------------------

for r in $REASONS; do
	issue_cert "r-$r" Server "/C=SE/O=Example/CN=$r.example.test"
	check "revoke -r $r" cm revoke "$SERIAL" -r "$r"
	if [ "$r" = certificateHold ]; then
		want="hold certificateHold"
	else
		want="revoked $r"
	fi
	is "cert show: $want" "$(show "r-$r")" "$want"
done

issue_cert h2 Server /C=SE/O=Example/CN=h2.example.test
must cm revoke "$SERIAL" -r certificateHold
check "a certificate on hold may be revoked again with another reason" \
    cm revoke "$SERIAL" -r superseded
is "it is then revoked, superseded" "$(show h2)" "revoked superseded"

issue_cert victim Server /C=SE/O=Example/CN=victim.example.test
check_refused 3 'noSuchReason' "an unknown reason is refused (exit 3)" \
    cm revoke "$(serial_of victim)" -r noSuchReason
check_refused 4 'revoked' "revoking a revoked certificate again is refused (exit 4)" \
    cm revoke "$(serial_of r-keyCompromise)" -r superseded
check_refused 5 '[0-9A-Fa-f]{16}' "an unknown serial: exit 5" \
    cm revoke 0123456789ABCDEF0123456789ABCDEF -r keyCompromise
check_refused 4 '' "release of a valid certificate is refused (exit 4)" \
    cm release "$(serial_of victim)"

colon=$(serial_of victim | tr 'ABCDEF' 'abcdef' | sed 's/../&:/g; s/:$//')
check "a serial may be written in lower case with colons" cm cert show "$colon"

issue_cert cs Server /C=SE/O=Example/CN=cs.example.test
check_refused 5 '' "revoke --ca with a CA that did not issue it: exit 5" \
    cm revoke "$SERIAL" --ca Root -r superseded
check "revoke --ca Sub" cm revoke "$SERIAL" --ca Sub -r superseded

# A serial in two CAs needs --ca: made on a copy of the CMDB by hand.
issue_cert dup Server /C=SE/O=Example/CN=dup.example.test
cp "$CM_DB" "$T/dup.db"
sqlite3 "$T/dup.db" "INSERT INTO certs (ca_id, serial, subject, procedure_id,
    not_before, not_after, issued, status, der)
    SELECT (SELECT id FROM cas WHERE name = 'Root'), serial, subject, NULL,
    not_before, not_after, issued, status, der FROM certs
    WHERE serial = '$(serial_of dup)'" || die "cannot copy a certificate row"
check_fail '[1-9][0-9]*' '--ca|more than one|ambiguous' \
    "a serial in two CAs without --ca is refused, pointing to --ca" \
    cm -d "$T/dup.db" revoke "$(serial_of dup)" -r superseded
check "with --ca it is found" cm -d "$T/dup.db" cert show "$(serial_of dup)" --ca Sub

issue_cert b Server /C=SE/O=Example/CN=b.example.test

# --- full CRL ----------------------------------------------------------------------

check "a full CRL" cm crl issue --ca Sub -o "$T/full1.crl"
n1=$(tr -d ' \r\n' <"$T/out")
for r in $REASONS; do
	if [ "$r" = unspecified ]; then
		d="the full CRL lists the unspecified certificate without reasonCode"
	else
		d="the full CRL lists the $r certificate with its reasonCode"
	fi
	is "$d" "$(entry "$T/full1.crl" "r-$r")" "$(openssl_reason "$r")"
done
is "full CRL: nextUpdate - thisUpdate = --crl-interval 6h" \
    "$(span "$T/full1.crl")" 21600

# --- release, a new revocation, delta CRL -------------------------------------

check "release the certificate on hold" \
    cm release "$(serial_of r-certificateHold)"
is "it is valid again" "$(show r-certificateHold)" "valid"
must cm revoke "$(serial_of b)" -r affiliationChanged

check "a delta CRL" cm crl issue --ca Sub --delta -o "$T/delta2.crl"
n2=$(tr -d ' \r\n' <"$T/out")
is "the delta CRL number follows the full one" "$n2" $((n1 + 1))
is "the delta CRL has a critical deltaCRLIndicator of the base number" \
    "$(crl_text "$T/delta2.crl" | grep -A1 'Delta CRL Indicator' |
    tr -s ' \n' '  ' | sed 's/^ *//; s/ *$//')" \
    "X509v3 Delta CRL Indicator: critical $n1"
is "the delta CRL lists the released hold as removeFromCRL" \
    "$(entry "$T/delta2.crl" r-certificateHold)" "Remove From CRL"
is "the delta CRL lists the new revocation" \
    "$(entry "$T/delta2.crl" b)" "Affiliation Changed"
is "the delta CRL does not list what did not change" \
    "$(entry "$T/delta2.crl" r-keyCompromise)" ""
is "delta CRL: nextUpdate - thisUpdate = --delta-interval 1h" \
    "$(span "$T/delta2.crl")" 3600
assert "openssl crl -verify accepts the delta CRL" \
    sh -c 'openssl crl -in "$1" -noout -verify -CAfile "$2" 2>&1 |
	grep -x "verify OK"' sh "$T/delta2.crl" "$T/sub.pem"

check "another full CRL, in DER" cm crl issue --ca Sub --der -o "$T/full3.der"
n3=$(tr -d ' \r\n' <"$T/out")
is "its number follows the delta's" "$n3" $((n2 + 1))
is "it no longer lists the released hold, and lists the new revocation" \
    "[$(entry "$T/full3.der" r-certificateHold)] [$(entry "$T/full3.der" b)]" \
    "[] [Affiliation Changed]"
refute "a full CRL has no deltaCRLIndicator" \
    sh -c 'openssl crl -inform DER -in "$1" -noout -text |
	grep "Delta CRL Indicator"' sh "$T/full3.der"

run cm crl list --ca Sub
cp "$T/out" "$T/crls.list"
is "crl list: number, kind and entries of the three CRLs" \
    "$(awk -F '\t' '{ printf "%s %s %s|", $1, $2, $5 }' "$T/crls.list")" \
    "$n1 full 10|$n2 delta 2|$n3 full 10|"
lu=$(openssl crl -in "$T/delta2.crl" -noout -lastupdate | sed 's/.*=//')
nu=$(openssl crl -in "$T/delta2.crl" -noout -nextupdate | sed 's/.*=//')
is "crl list: thisUpdate and nextUpdate of the delta CRL" \
    "$(line_for "$n2" "$T/crls.list" | awk -F '\t' '{ print $3, $4 }')" \
    "$(iso "$(to_epoch "$lu")") $(iso "$(to_epoch "$nu")")"

check "crl export --number" cm crl export --ca Sub --number "$n1" -o "$T/export1.crl"
assert "the exported CRL equals the issued file" cmp "$T/export1.crl" "$T/full1.crl"
run cm crl export --ca Sub --der -o "$T/export3.der"
assert "crl export --der without --number gives the latest CRL" \
    cmp "$T/export3.der" "$T/full3.der"
check_fail 5 '' "crl export of a CRL number that was never issued: exit 5" \
    cm crl export --ca Sub --number 999 -o "$T/export999.crl"

# --- revocation date -----------------------------------------------------------------

nb=$(to_epoch "$(openssl x509 -in "$T/D.pem" -noout -startdate | sed 's/.*=//')")
if [ $(($(date +%s) - nb)) -lt 2 ]; then
	sleep 2
fi
check "revoke --time in the past" \
    cm revoke "$(serial_of D)" -r keyCompromise --time "$(iso "$nb")"
must cm crl issue --ca Sub -o "$T/full4.crl"
is "the CRL carries that revocation date" \
    "$(crl_entries "$T/full4.crl" |
    awk -F '\t' -v s="$(normserial "$(serial_of D)")" '$1 == s { print $3 }')" \
    "$nb"
issue_cert future Server /C=SE/O=Example/CN=future.example.test
check_refused '3|4' 'future|time' "revoke --time in the future is refused" \
    cm revoke "$SERIAL" -r keyCompromise --time "$(iso $(($(date +%s) + 86400)))"

# --- cert list ---------------------------------------------------------------------------

issue_cert www1 Server /C=SE/O=Example/CN=www1.example.test
issue_cert www2 Server /C=SE/O=Example/CN=www2.example.test
issue_cert WWW3 Server /C=SE/O=Example/CN=WWW3.example.test
issue_cert short1 Short /C=SE/O=Example/CN=short1.example.test
issue_cert hold2 Server /C=SE/O=Example/CN=hold2.example.test
must cm revoke "$SERIAL" -r certificateHold

# serials NAME...: their normalized serials, sorted, on one line.
serials() {
	for _n in "$@"; do
		normserial "$(serial_of "$_n")"
	done | sort | tr '\n' ' '
}

# listed: the normalized serials of the last cert list, sorted.
listed() {
	field 1 "$T/out" | while read -r _s; do normserial "$_s"; done |
	    sort | tr '\n' ' '
}

run cm cert list --ca Sub --status revoked
is "cert list --status revoked" "$(listed)" \
    "$(serials r-keyCompromise r-cACompromise r-affiliationChanged \
    r-superseded r-cessationOfOperation r-privilegeWithdrawn r-unspecified \
    h2 cs b D)"
run cm cert list --ca Sub --status hold
is "cert list --status hold" "$(listed)" "$(serials hold2)"

now=$(date +%s)
tiny_end=$(to_epoch "$(openssl x509 -in "$T/tiny.pem" -noout -enddate | sed 's/.*=//')")
if [ "$tiny_end" -ge "$now" ]; then
	sleep $((tiny_end - now + 1))
fi
run cm cert list --ca Sub --status valid
is "cert list --status valid" "$(listed)" \
    "$(serials r-certificateHold victim dup future www1 www2 WWW3 short1)"
run cm cert list --ca Sub --status expired
is "cert list --status expired" "$(listed)" "$(serials tiny)"
run cm cert list --ca Sub --subject 'C=SE,O=Example,CN=www'
is "cert list --subject is a case-sensitive prefix" "$(listed)" \
    "$(serials www1 www2)"
run cm cert list --ca Sub --subject 'c=se,o=example'
is "cert list --subject in the wrong case finds nothing" "$(lines "$T/out")" 0
run cm cert list --ca Sub --expiring 30 --status valid
is "cert list --expiring 30 finds the 10-day certificate only" "$(listed)" \
    "$(serials short1)"
run cm cert list --ca Sub --limit 2
is "cert list --limit 2" "$(lines "$T/out")" 2
run cm cert list --ca Sub --status revoked --limit 3
is "cert list --status revoked --limit 3" \
    "$(lines "$T/out") $(field 3 "$T/out" | sort -u | tr '\n' ' ')" "3 revoked "

run cm cert list --ca Sub --subject 'C=SE,O=Example,CN=www1.'
end=$(openssl x509 -in "$T/www1.pem" -noout -enddate | sed 's/.*=//')
is "cert list prints serial, CA, status, notAfter and subject" \
    "$(awk -F '\t' '{ printf "%s|%s|%s|%s|%s", $1, $2, $3, $4, $5 }' "$T/out")" \
    "$(serial_of www1 | tr 'abcdef' 'ABCDEF')|Sub|valid|$(iso "$(to_epoch "$end")")|C=SE,O=Example,CN=www1.example.test"

done_testing
