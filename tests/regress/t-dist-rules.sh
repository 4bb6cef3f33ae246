#!/bin/sh
# t-dist-rules.sh: distribution rules, the policy of publication: created
# and attached as policy changes (two officers once there are officers),
# checked (HTTPS only, PUT or POST, what is published, the server's CA
# certificates), the HTTP basic password sealed and never shown, refusals
# that change nothing, and audit verify over them.
# shellcheck source=tests/regress/lib.sh
. "$(dirname "$0")/lib.sh"

TAB=$(printf '\t')
plan 69

pki_basic
cp "$CM_DB" "$T/before-rules.db"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$T/tlsca.key" -subj "/CN=Web TLS CA" -days 30 \
    -out "$T/tlsca.pem" >/dev/null 2>&1 || die "openssl req failed"
printf 'not a certificate\n' >"$T/junk.pem"
printf 'Sesame-4711\n' >"$T/basic.pw"

check "dist-rule create: CRLs and the CA certificate by PUT" \
    cm dist-rule create -n web --url https://pki.example.test/crl/ \
    --method PUT --publish crl,ca-cert,delta-crl --server-ca "$T/tlsca.pem"
check "dist-rule create: certificates by POST, PEM, mTLS and basic auth" \
    cm dist-rule create -n ocsp-feed --url https://ocsp.example.test:8443/in \
    --method POST --publish certs,cil --format pem --server-ca "$T/tlsca.pem" \
    --client "pkcs11:token=TLS%20HSM" --basic-user feeder \
    --basic-password-file "$T/basic.pw"

run cm dist-rule list
cp "$T/out" "$T/rules"
is "dist-rule list: two rules" "$(lines "$T/rules")" 2
is "... the first: method, URL, what it publishes (normalized), format" \
    "$(line_for web "$T/rules")" \
    "web${TAB}PUT https://pki.example.test/crl/${TAB}crl,ca-cert,delta-crl${TAB}der"

run cm dist-rule show ocsp-feed
like "dist-rule show: the client credential" "$(cat "$T/out")" \
    'Client credential: pkcs11:token=TLS%20HSM'
like "... the basic user" "$(cat "$T/out")" 'HTTP basic user: feeder'
unlike "... never the password" "$(cat "$T/out")" 'Sesame'
like "... the server's CA certificates" "$(cat "$T/out")" \
    'BEGIN CERTIFICATE'
assert "the password is nowhere in the CMDB in clear" \
    sh -c "! sqlite3 '$CM_DB' .dump | grep -q Sesame"
sqlite3 "$CM_DB" "SELECT writefile('$T/pw.der', basic_password) FROM \
    dist_rules WHERE name = 'ocsp-feed'" >/dev/null
like "... it is sealed (PBES2, scrypt, AES-256-CBC)" \
    "$(openssl asn1parse -inform DER -in "$T/pw.der" | tr '\n' ' ')" \
    ':PBES2 .*:scrypt .*:aes-256-cbc'
unlike "... and the change document holds it sealed only" \
    "$(sqlv "$CM_DB" "SELECT document FROM changes")" 'Sesame'

# --- attach -------------------------------------------------------------------

check "attach a rule to a CA" cm dist-rule attach web --ca Sub
check "attach a rule to a certificate procedure" \
    cm dist-rule attach ocsp-feed --procedure Server
run cm dist-rule show web
like "dist-rule show names what it is attached to" "$(cat "$T/out")" \
    'Attached: CA Sub'
check_refused 6 'attached to CA "Sub" already' "a second attach is refused" \
    cm dist-rule attach web --ca Sub
check_refused 5 'CA "Nowhere" not found' "attach to an unknown CA" \
    cm dist-rule attach web --ca Nowhere
check_refused 5 'distribution rule "nope" not found' "attach an unknown rule" \
    cm dist-rule attach nope --ca Sub

# --- the publication queue -------------------------------------------------------

run cm publish list
cp "$T/out" "$T/queue"
is "attaching a rule that publishes the CA certificate enqueues it" \
    "$(cut -f2-6 "$T/queue")" "pending${TAB}web${TAB}ca-cert${TAB}Sub${TAB}Sub.crt"
issue_cert q1 Server "/CN=q1.example.test" --san DNS:q1.example.test
run cm publish list --rule ocsp-feed
is "an issued certificate is enqueued for the rule of its procedure" \
    "$(cut -f2-6 "$T/out")" \
    "pending${TAB}ocsp-feed${TAB}cert${TAB}Sub${TAB}$SERIAL.pem"
is "... the item names the certificate's row" \
    "$(sqlv "$CM_DB" "SELECT c.serial FROM publications p JOIN certs c ON c.id = p.cert_id WHERE p.kind = 'cert'")" \
    "$SERIAL"
must cm ca modify Sub --delta-interval 1h
must cm crl issue --ca Sub -o "$T/sub.crl"
must cm crl issue --ca Sub --delta -o "$T/sub-delta.crl"
must cm crl issue --ca Root -o "$T/root.crl"
run cm publish list --rule web
is "full and delta CRLs of the CA are enqueued for its rule, in order" \
    "$(cut -f4,6 "$T/out" | tr '\n' ' ')" \
    "ca-cert${TAB}Sub.crt crl${TAB}Sub.crl delta-crl${TAB}Sub-delta.crl "
is "a CA without rules enqueues nothing" \
    "$(sqlv "$CM_DB" "SELECT count(*) FROM publications p JOIN cas c ON c.id = p.ca_id WHERE c.name = 'Root'")" 0
mkcsr_alg rsa:1024 bad "/CN=bad.example.test"
before=$(sqlv "$CM_DB" "SELECT count(*) FROM publications")
run cm issue -p Server --csr "$T/bad.csr" -o "$T/bad.pem"
isnt "a refused issuance (an RSA-1024 key) fails" "$RC" 0
is "... and enqueues nothing" "$(sqlv "$CM_DB" "SELECT count(*) FROM publications")" \
    "$before"
run cm publish status
like "publish status counts by rule and state" "$(cat "$T/out")" \
    "web${TAB}pending 3${TAB}delivered 0${TAB}failed 0"
check "publish retry with nothing failed" cm publish retry
check_refused 5 'publication 9999 is not failed' "retry of an unknown item" \
    cm publish retry 9999
check_fail 3 'publication state "done"' "a bad state for publish list" \
    cm publish list --state done

# --- refusals change nothing ---------------------------------------------------

check_refused 3 'publication is over HTTPS only' "an http URL is refused" \
    cm dist-rule create -n plain --url http://pki.example.test/ --method PUT \
    --publish crl --server-ca "$T/tlsca.pem"
check_refused 3 'the URL holds credentials: give them with --basic-user' \
    "credentials in the URL are refused" \
    cm dist-rule create -n creds --url https://u:p@pki.example.test/ \
    --method PUT --publish crl --server-ca "$T/tlsca.pem"
check_refused 3 'method "GET" \(PUT or POST\)' "method GET is refused" \
    cm dist-rule create -n get --url https://pki.example.test/ --method GET \
    --publish crl --server-ca "$T/tlsca.pem"
check_refused 3 '"ocsp" is not published' "an unknown content is refused" \
    cm dist-rule create -n what --url https://pki.example.test/ --method PUT \
    --publish crl,ocsp --server-ca "$T/tlsca.pem"
check_refused 3 'the server CA file holds no PEM certificate' \
    "a server CA file without certificates is refused" \
    cm dist-rule create -n junk --url https://pki.example.test/ --method PUT \
    --publish crl --server-ca "$T/junk.pem"
cat "$T/tlsca.key" "$T/tlsca.pem" >"$T/with-key.pem"
check_refused 3 'holds more than certificates \(a key\?\)' \
    "a server CA file with a private key in it is refused" \
    cm dist-rule create -n keyed --url https://pki.example.test/ --method PUT \
    --publish crl --server-ca "$T/with-key.pem"
unlike "... and the key is nowhere in the audit log" \
    "$(sqlv "$CM_DB" "SELECT detail FROM audit")" 'PRIVATE KEY'
check_refused 6 'distribution rule "web" already exists' \
    "a duplicate name is refused" \
    cm dist-rule create -n web --url https://pki.example.test/ --method PUT \
    --publish crl --server-ca "$T/tlsca.pem"
check_refused 3 'a user and a password, both' "a basic user without password" \
    cm dist-rule create -n half --url https://pki.example.test/ --method PUT \
    --publish crl --server-ca "$T/tlsca.pem" --basic-user feeder
check_fail 2 'dist-rule attach NAME' "attach needs a CA or a procedure" \
    cm dist-rule attach web

check "audit verify: the rules are policy, in the digest" cm audit verify

# --- policy export and import ---------------------------------------------------

check "policy export" cm policy export -o "$T/policy.xml"
like "the export has the rules, their attachments and server CAs" \
    "$(tr '\n' ' ' <"$T/policy.xml")" \
    '<dist-rule [^>]*name="web"[^>]*><server-ca>-----BEGIN CERTIFICATE.*<attach ca="Sub"></attach>'
unlike "... and the basic password only sealed" "$(cat "$T/policy.xml")" 'Sesame'
check "the policy imported into the CMDB as it was before the rules" \
    cm -d "$T/before-rules.db" policy import "$T/policy.xml"
run cm -d "$T/before-rules.db" dist-rule show ocsp-feed
like "the imported rule is there, attached" "$(cat "$T/out")" \
    'Attached: procedure Server'
is "the sealed password came along" \
    "$(sqlv "$T/before-rules.db" "SELECT hex(basic_password) FROM dist_rules WHERE name = 'ocsp-feed'")" \
    "$(sqlv "$CM_DB" "SELECT hex(basic_password) FROM dist_rules WHERE name = 'ocsp-feed'")"

# --- detach ------------------------------------------------------------------------

check_refused 5 'distribution rule "web" is not attached to CA "Root"' \
    "detach from a CA it is not attached to" \
    cm dist-rule detach web --ca Root
check_fail 2 'dist-rule detach NAME' "detach needs a CA or a procedure" \
    cm dist-rule detach web
check "detach the rule from its CA" cm dist-rule detach web --ca Sub
run cm dist-rule show web
unlike "dist-rule show: no longer attached" "$(cat "$T/out")" 'Attached:'
is "what it had not delivered is withdrawn" "$(sqlv "$CM_DB" "SELECT \
    group_concat(p.state) FROM publications p JOIN dist_rules r ON r.id = \
    p.rule_id WHERE r.name = 'web'")" "withdrawn,withdrawn,withdrawn"
run cm publish status
like "publish status counts it" "$(line_for web "$T/out")" \
    "pending 0${TAB}.*withdrawn 3"
must cm crl issue --ca Sub -o /dev/null
is "a CRL issued now is not enqueued for it" "$(sqlv "$CM_DB" "SELECT \
    count(*) FROM publications p JOIN dist_rules r ON r.id = p.rule_id \
    WHERE r.name = 'web' AND p.state = 'pending'")" 0
check "attach it again" cm dist-rule attach web --ca Sub
is "what the detach withdrew goes after all, with the CRL issued since" \
    "$(sqlv "$CM_DB" "SELECT group_concat(w) FROM (SELECT p.kind || ' ' || \
    p.state AS w FROM publications p JOIN dist_rules r ON r.id = \
    p.rule_id WHERE r.name = 'web' ORDER BY p.id)")" \
    "ca-cert pending,crl pending,delta-crl pending,crl pending"
run cm audit list --action dist-rule.detach
like "the detach is in the audit log" "$(cat "$T/out")" 'dist-rule.detach'
check "audit verify after the detach" cm audit verify
done_testing
