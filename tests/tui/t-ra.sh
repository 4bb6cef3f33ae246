#!/bin/sh
# t-ra.sh: cm-ra driven through tmux: a subject with a UTF-8 DN, a soft
# token issued to it whose PIN is shown once and whose certificate
# verifies with openssl, a PKCS#10 request reviewed and issued, search,
# renewal with the same key, hold and release, and revocation that the
# next CRL carries.  Then keyset paging through a few hundred certificates.
# shellcheck source=tests/regress/lib.sh
. "$(dirname "$0")/../regress/lib.sh"
# shellcheck source=tests/tui/lib-tui.sh
. "$top_srcdir/tests/tui/lib-tui.sh"

plan 52

B=$T/boot
run env CMCTL="$CMCTL" "$top_srcdir/scripts/bootstrap-ceremony" "$B" \
    "C=SE,O=RA Test"
[ "$RC" -eq 0 ] || die "the bootstrap ceremony failed"
cmb() { "$CMCTL" -c "$B/cm.conf" -d "$B/cm.db" "$@"; }
o12() {
	cmb --officer "$B/officer-1.p12" --officer-pin-file "$B/officer-1.p12.pin" \
	    --officer "$B/officer-2.p12" --officer-pin-file "$B/officer-2.p12.pin" "$@"
}
CA="Officer and system CA"
o12 cert-procedure create -n "User auth" --ca "$CA" --format client \
    >/dev/null 2>&1 || die "cert-procedure create failed"
o12 cert-procedure create -n "Web server" --ca "$CA" --format server \
    >/dev/null 2>&1 || die "cert-procedure create failed"
o12 token-procedure create -n "Soft user" --storage pkcs12 \
    --cert-procedure "User auth" >/dev/null 2>&1 ||
    die "token-procedure create failed"
cmb ca export "$CA" --chain >"$T/chain.pem" || die "ca export failed"

tui_start 80 24 "$CMRA" -c "$B/cm.conf" -d "$B/cm.db" --officer "$B/officer-1.p12"
tui_see "cm-ra opens on its login dialog, the token filled in" \
    "$B/officer-1.p12"
tui_keys Tab
tui_type "$(cat "$B/officer-1.p12.pin")"
tui_keys Enter
tui_see "the header names the officer" "Officer Officer 1 (Security officers)"
tui_see "the tabs" "1 Soft Token   2 PKCS#10   3 Subjects   4 Search"

# --- Subjects: register with a UTF-8 DN; inline validation --------------------------

tui_keys 3 n
tui_see "the register dialog" "Register subject"
tui_type "CN=x,,y"
tui_keys Tab
tui_see "a bad DN is refused inline" "subject \"CN=x,,y\""
tui_keys C-u
tui_type "C=SE,O=RA Test,CN=Åsa Öberg"
tui_keys Tab
tui_type "asa@example.se"
tui_resize 120 40
tui_see "a resize keeps the dialog" "Register subject"
tui_see "... and what was typed into it" "asa@example.se"
tui_resize 80 24
tui_see "... and so does the way back to 80x24" "CN=Åsa Öberg"
tui_keys F2
tui_see "the subject is listed, UTF-8 and all" "CN=Åsa Öberg"
tui_see "... with the cmctl command" "$ cmctl subject register -s"
run cmb subject list --search "Öberg"
like "cmctl finds it too" "$(cat "$T/out")" \
    "asa@example.se"

# --- Soft Token: issue to the subject, the PIN shown once -----------------------------

tui_keys End i
tui_see "the soft token dialog for the subject" "Issue soft token"
tui_keys S Tab Tab
tui_type "$T/chain.pem"
tui_keys Tab
tui_see "an existing file is refused inline" \
    "exists; a file is never written"
tui_keys C-u
tui_type "$T/asa.p12"
tui_keys F2
tui_see "the PIN is shown once" "PIN:"
pin=$(grep -o 'PIN: [A-Za-z0-9]*' "$T/screen" | head -1 | cut -d' ' -f2)
isnt "a PIN was read off the screen" "$pin" ""
tui_keys Enter
tui_see "the command is on the status line" "$ cmctl token issue -P 'Soft user'"
is "the PKCS#12 file is private (0600)" \
    "$(stat -c %a "$T/asa.p12")" 600
assert "the PIN opens the PKCS#12 file (openssl pkcs12)" \
    openssl pkcs12 -in "$T/asa.p12" -passin "pass:$pin" -nokeys -clcerts \
    -out "$T/asa.crt"
assert "its certificate verifies (openssl verify -x509_strict)" \
    openssl verify -x509_strict -CAfile "$T/chain.pem" "$T/asa.crt"
like "its subject is the UTF-8 DN" \
    "$(openssl x509 -in "$T/asa.crt" -noout -subject -nameopt RFC2253,-esc_msb)" \
    "CN=Åsa Öberg"
serial=$(openssl x509 -in "$T/asa.crt" -noout -serial | cut -d= -f2)
tui_keys 1
tui_see "the Soft Token tab lists the token" "Soft user"

# --- PKCS#10: review, then issue -------------------------------------------------------

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/web.key" -subj "/CN=www.example.se" \
    -addext "subjectAltName=DNS:www.example.se" -out "$T/web.csr" \
    2>/dev/null || die "openssl req failed"
tui_keys 2
tui_see "the PKCS#10 tab lists the procedures" "Web server"
tui_keys i
tui_see "the request dialog" "Issue from a PKCS#10 request"
tui_type "$T/web.csr"
tui_keys Tab W Tab Tab
tui_type "DNS:api.example.se"
tui_keys Tab
tui_type "$T/web.pem"
tui_keys F2
tui_see "the review shows the subject" "Subject: CN=www.example.se"
tui_see "... and the SAN that will be issued" \
    "DNS:www.example.se,DNS:api.example.se"
tui_keys y
tui_see "issued: the cmctl command" "$ cmctl issue -p 'Web server'"
assert "the server certificate verifies" \
    openssl verify -x509_strict -CAfile "$T/chain.pem" "$T/web.pem"
like "it carries both names" \
    "$(openssl x509 -in "$T/web.pem" -noout -ext subjectAltName)" \
    "api.example.se"

# --- Search, renew, hold, release, revoke -------------------------------------------

tui_keys 4 /
tui_see "the search dialog" "Search certificates"
tui_type "C=SE,O=RA Test,CN=Åsa"
tui_keys F2
tui_see "the search finds the token's certificate" "$serial"
tui_keys w
tui_see "renew asks how" "Same key"
tui_keys Enter
tui_type "$T/renewed.pem"
tui_keys F2
tui_see "renewed: the command" "$ cmctl cert renew $serial"
assert "the renewed certificate verifies" \
    openssl verify -x509_strict -CAfile "$T/chain.pem" "$T/renewed.pem"
is "... and has the same key" \
    "$(openssl x509 -in "$T/renewed.pem" -noout -pubkey)" \
    "$(openssl x509 -in "$T/asa.crt" -noout -pubkey)"
tui_keys Home h
tui_see "hold asks first" "Put certificate"
tui_keys y
tui_see "the certificate is on hold" "-r certificateHold"
like "cmctl sees the hold" "$(cmb cert show "$serial")" "Status: hold"
tui_keys l
tui_see "released" "$ cmctl release $serial"
like "cmctl sees it valid" "$(cmb cert show "$serial")" "Status: valid"
tui_keys r
tui_see "the revoke dialog" "Revoke certificate"
tui_keys k F2
tui_see "revoke asks first" "(keyCompromise)?"
tui_keys y
tui_see "revoked: the command" "$ cmctl revoke $serial -r keyCompromise"
like "cmctl sees it revoked" "$(cmb cert show "$serial")" "Status: revoked"
cmb crl issue --ca "$CA" -o "$T/crl.pem" >/dev/null 2>&1
cat "$T/chain.pem" "$T/crl.pem" >"$T/chain-crl.pem"
refute "openssl verify -crl_check refuses the revoked certificate" \
    openssl verify -x509_strict -crl_check -CAfile "$T/chain-crl.pem" \
    "$T/asa.crt"
tui_keys Home r
tui_keys k F2
tui_see "... revoking it again says why" "revoked"
tui_keys Escape

# --- keyset paging: a few hundred certificates ---------------------------------------

mkdir -p "$T/csrs" "$T/certs"
openssl ecparam -name prime256v1 -genkey -noout -out "$T/p.key" 2>/dev/null
i=0
while [ $i -lt 300 ]; do
	openssl req -new -key "$T/p.key" -subj "/CN=host$(printf %03d $i).example.se" \
	    -out "$T/csrs/$i.csr" 2>/dev/null
	i=$((i + 1))
done
run cmb --officer "$B/officer-1.p12" --officer-pin-file "$B/officer-1.p12.pin" \
    issue -p "Web server" --csr-dir "$T/csrs" --out-dir "$T/certs"
is "300 certificates issued in one batch" "$RC" 0
last=$(sqlite3 "$B/cm.db" "SELECT serial FROM certs ORDER BY id DESC LIMIT 1")
first=$(sqlite3 "$B/cm.db" "SELECT serial FROM certs WHERE subject LIKE 'CN=host%' ORDER BY subject, id LIMIT 1")
tui_keys /
tui_wait "Search certificates"
tui_keys C-u Down C-u F2
tui_see "the list shows the first page" "Serial"
tui_keys End
tui_see "End pages to the newest certificate" "$last"
tui_keys PPage PPage PPage PPage PPage PPage Home
tui_gone "Home is the start again" "$last"
tui_keys /
tui_wait "Search certificates"
tui_type "CN=host"
tui_keys F2
tui_see "a subject prefix lists in subject order" "$first"
i=0
while [ $i -lt 40 ]; do
	tui_keys NPage
	i=$((i + 1))
done
tui_see "forty pages on, host299 is reached" "CN=host299.example.se"

tui_keys q
tui_exited
is "q quits with status 0" "$TUI_RC" 0
tui_stop
done_testing
