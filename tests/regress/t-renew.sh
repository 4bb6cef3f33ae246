#!/bin/sh
# t-renew.sh: what cm-ra does, through cmctl: renewal with the same key,
# the issuance preview (issue --dry-run), subject modify and search, and
# the audit list filters the AWB's audit viewer uses.
# shellcheck source=tests/regress/lib.sh
. "$(dirname "$0")/lib.sh"

plan 51

pki_basic
export_ca Root "$T/root.pem"
export_ca Sub "$T/sub.pem"
cat "$T/root.pem" "$T/sub.pem" >"$T/chain.pem"

# --- renew with the same key ---------------------------------------------------------

issue_cert web Server /CN=www.example.test -s "CN=www.example.test" \
    --san DNS:api.example.test
old=$SERIAL
check "cert renew writes the renewed certificate" \
    cm cert renew "$old" -o "$T/new.pem"
new=$(tr -d ' \r\n' <"$T/out")
isnt "... with a new serial" "$new" "$old"
is "... printed, as openssl reads it" \
    "$(openssl x509 -in "$T/new.pem" -noout -serial | cut -d= -f2)" "$new"
assert "the renewed certificate verifies (openssl verify -x509_strict)" \
    openssl verify -x509_strict -CAfile "$T/chain.pem" "$T/new.pem"
is "... for the same key" "$(openssl x509 -in "$T/new.pem" -noout -pubkey)" \
    "$(openssl x509 -in "$T/web.pem" -noout -pubkey)"
is "... the same subject" \
    "$(openssl x509 -in "$T/new.pem" -noout -subject)" \
    "$(openssl x509 -in "$T/web.pem" -noout -subject)"
is "... and the same subjectAltName" \
    "$(openssl x509 -in "$T/new.pem" -noout -ext subjectAltName)" \
    "$(openssl x509 -in "$T/web.pem" -noout -ext subjectAltName)"
like "the audit log says what was renewed" \
    "$(cm audit list --action cert.renew)" "renews $old"
check "to the standard output in DER with --der" \
    cm cert renew "$old" --der
assert "... which openssl reads as DER" \
    openssl x509 -inform DER -in "$T/out" -noout

check "the old certificate is put on hold" \
    cm revoke "$old" -r certificateHold
check_refused 4 'only a valid or expired certificate is renewed' \
    "a certificate on hold is not renewed: exit 4" cm cert renew "$old"
check "released" cm release "$old"
check "revoked" cm revoke "$old" -r superseded
check_refused 4 'is revoked' "a revoked certificate is not renewed: exit 4" \
    cm cert renew "$old"
sub_serial=$(openssl x509 -in "$T/sub.pem" -noout -serial | cut -d= -f2)
check_refused 4 'not issued under a certificate procedure' \
    "a CA certificate is not renewed: exit 4" cm cert renew "$sub_serial"
check_refused 5 'not found' "an unknown serial: exit 5" cm cert renew 0A0B0C

# --- a token's certificate renewed stays the token's -------------------------------

mkproc Client Sub client
must cm token-procedure create -n Soft --storage pkcs12 --cert-procedure Client
must cm subject register -s "CN=Token Holder"
check "a soft token" cm token issue -P Soft --subject "CN=Token Holder" \
    -o "$T/holder.p12"
tok=$(sed -n 's/^Token: //p' "$T/out")
tcert=$(sed -n 's/^Certificate: //p' "$T/out")
check "its certificate renewed with the same key" cm cert renew "$tcert" \
    -o "$T/holder-new.pem"
tnew=$(tr -d ' \r\n' <"$T/out")
like "token show lists the renewed certificate with the token" \
    "$(cm token show "$tok")" "Certificate: $tnew valid"
check "the token is revoked" cm token revoke "$tok" -r keyCompromise
like "... and the renewed certificate with it" "$(cm cert show "$tnew")" \
    "Status: revoked"

# --- issue --dry-run --------------------------------------------------------------------

mkcsr dry /CN=dry.example.test -addext "subjectAltName=DNS:dry.example.test"
n_before=$(sqlv "$CM_DB" "SELECT count(*) FROM certs")
a_before=$(sqlv "$CM_DB" "SELECT count(*) FROM audit")
check "issue --dry-run succeeds" \
    cm issue -p Server --csr "$T/dry.csr" --san IP:192.0.2.7 --dry-run
is "... and signs, stores and logs nothing" \
    "$(sqlv "$CM_DB" "SELECT count(*) FROM certs") $(sqlv "$CM_DB" \
    "SELECT count(*) FROM audit")" "$n_before $a_before"
like "... and prints the subject" "$(cat "$T/out")" \
    "^Subject: CN=dry.example.test"
like "... and the SAN the certificate would get" "$(cat "$T/out")" \
    "SAN: DNS:dry.example.test,IP:192.0.2.7"
check_fail 4 'dNSName' "--dry-run refuses what issue would refuse" \
    cm issue -p Server --csr "$T/dry.csr" --san "DNS:bad name" --dry-run

# --- a URL may not smuggle another access description into the AIA ---------

check_refused 3 'must not contain commas' \
    "an ocsp-url with a comma is refused: exit 3" \
    cm cert-procedure create -n Smuggle --ca Sub --format server \
    --field "ocsp-url=http://a,caIssuers;URI:http://evil.example"

# --- subject modify and search -------------------------------------------------------

check "a subject is registered" \
    cm subject register -s "C=SE,O=Example,CN=Anna Svensson" \
    --email anna@example.test
id=$(tr -d ' \n' <"$T/out")
check "subject modify changes the email" \
    cm subject modify "$id" --email anna.svensson@example.test
like "... which subject show shows" "$(cm subject show "$id")" \
    "Email: anna.svensson@example.test"
check_refused 3 'not an address' "a bad email is refused: exit 3" \
    cm subject modify "$id" --email "not an address"
check_refused 3 'subject alternative name' "a bad SAN is refused: exit 3" \
    cm subject modify "$id" --san "DNS"
check_refused 5 'not registered' "an unknown subject: exit 5" \
    cm subject modify 9999 --email a@example.test
check_refused 2 'subject modify ID' "subject modify without a change: exit 2" \
    cm subject modify "$id"
check "an empty value clears the email" cm subject modify "$id" --email ""
like "... which subject show shows" "$(cm subject show "$id")" "Email: $"
like "subject list --search finds by a part of the DN, any case" \
    "$(cm subject list --search "anna sv")" "Anna Svensson"

# --- audit list filters -------------------------------------------------------------

like "--action keeps the actions with that prefix" \
    "$(cm audit list --action subject. | cut -f4 | sort -u | tr '\n' ' ')" \
    "^subject.modify subject.register $"
like "--result refused keeps the refusals" \
    "$(cm audit list --result refused | cut -f6 | sort -u)" "^refused$"
is "--until before the first record lists nothing" \
    "$(cm audit list --until 2000-01-01 | wc -l)" 0
check_fail 3 'use ok or refused' "a bad --result: exit 3" \
    cm audit list --result maybe

done_testing
