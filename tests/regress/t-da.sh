#!/bin/sh
# t-da.sh: cm-da delivers the publication queue to real HTTPS servers on
# 127.0.0.1, started and stopped here by PID: nginx taking PUT with client
# certificates required, and a python sink taking PUT and POST.  What
# arrives is checked byte for byte and with openssl (verify -crl_check_all,
# the CIL's signature); faults: server down, HTTP 500, wrong server CA,
# client certificate refused, slow server, cm-da killed with SIGKILL in the
# middle of a batch and restarted (every item stored exactly once), and a
# daemon stopped with SIGTERM.  Also: supersession, exponential backoff,
# failed items and retry, a delta CRL at once on revocation, scheduled CRLs.
# shellcheck source=tests/regress/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/regress/lib-https.sh
. "$top_srcdir/tests/regress/lib-https.sh"

TAB=$(printf '\t')
plan 94

[ -x "$NGINX" ] || die "nginx is not installed (scripts/setup installs it)"
pki_basic
tls_pki
nginx_start "$T/ngx"
NGX_PORT=$NGINX_PORT
sink_start post --client-ca "$T/tls/ca.pem"
POST_PORT=$SINK_PORT
POST_PID=$SINK_PID

# The delivery settings of the test: short waits.
cat >"$T/cm.conf" <<EOF
da.retry-base = 2s
da.retry-max = 8s
da.max-attempts = 3
da.timeout = 2s
da.poll = 1s
EOF
CM_CONF=$T/cm.conf
export CM_CONF

openssl pkcs12 -export -in "$T/tls/client.pem" -inkey "$T/tls/client.key" \
    -passout pass:Twelve-p12 -out "$T/client.p12" || die "pkcs12 -export"
openssl pkcs12 -export -in "$T/tls/rogue-client.pem" \
    -inkey "$T/tls/rogue-client.key" -passout pass:Twelve-p12 \
    -out "$T/rogue.p12" || die "pkcs12 -export (rogue)"
printf 'Twelve-p12\n' >"$T/p12.pw"
printf 'wrong\n' >"$T/bad.pw"

# --- rules -------------------------------------------------------------------

check_refused 9 'client credential .*client.p12: the passphrase does not' \
    "a PKCS#12 client credential the passphrase does not open is refused" \
    cm dist-rule create -n web --url "https://127.0.0.1:$NGX_PORT/pki/" \
    --method PUT --publish crl --server-ca "$T/tls/ca.pem" \
    --client "$T/client.p12" --client-pass-file "$T/bad.pw"
check_refused 3 'a client passphrase opens a PKCS#12 file' \
    "a client passphrase for a token key is refused" \
    cm dist-rule create -n web --url "https://127.0.0.1:$NGX_PORT/pki/" \
    --method PUT --publish crl --server-ca "$T/tls/ca.pem" \
    --client "pkcs11:token=TLS" --client-pass-file "$T/p12.pw"
check "a PUT rule for CRLs, CA certificates and CILs (nginx, mTLS)" \
    cm dist-rule create -n web --url "https://127.0.0.1:$NGX_PORT/pki/" \
    --method PUT --publish crl,delta-crl,ca-cert,cil \
    --server-ca "$T/tls/ca.pem" --client "$T/client.p12" \
    --client-pass-file "$T/p12.pw"
check "a POST rule for certificates, PEM (the sink, mTLS, by host name)" \
    cm dist-rule create -n feed --url "https://localhost:$POST_PORT/in" \
    --method POST --publish certs --format pem --server-ca "$T/tls/ca.pem" \
    --client "$T/client.p12" --client-pass-file "$T/p12.pw"
run cm dist-rule show web
like "dist-rule show: the client passphrase is sealed" "$(cat "$T/out")" \
    'Client passphrase: sealed'
assert "the passphrase is nowhere in the CMDB in clear" \
    sh -c "! sqlite3 '$CM_DB' .dump | grep -q Twelve-p12"
must cm dist-rule attach web --ca Root
must cm dist-rule attach web --ca Sub
must cm dist-rule attach feed --procedure Server
must cm dist-rule create -n roots --url "https://127.0.0.1:$NGX_PORT/roots/" \
    --method PUT --publish certs --server-ca "$T/tls/ca.pem" \
    --client "$T/client.p12" --client-pass-file "$T/p12.pw"
must cm dist-rule attach roots --ca Root
mksub Sub-delta Root ec:p256
is "a sub CA's certificate is a certificate its issuer issued: the rule \
publishing Root's certificates gets it" "$(sqlv "$CM_DB" "SELECT p.kind, \
    p.target FROM publications p JOIN dist_rules r ON r.id = p.rule_id \
    WHERE r.name = 'roots'")" "cert|$(sqlv "$CM_DB" "SELECT serial FROM cas \
    WHERE name = 'Sub-delta'").cer"
check_refused 4 'CA "Sub-delta" would publish under the names of CA "Sub"' \
    "a CA whose file names would be another's under the rule is refused" \
    cm dist-rule attach web --ca Sub-delta
check_refused 4 'CA "Sub": a delta CRL on every revocation needs delta CRLs' \
    "ca modify --revoke-delta yes without delta CRLs is refused" \
    cm ca modify Sub --revoke-delta yes
check_refused 3 'delta CRL on revocation "maybe" \(yes or no\)' \
    "ca modify --revoke-delta maybe is refused" \
    cm ca modify Sub --revoke-delta maybe
must cm ca modify Sub --delta-interval 1h --revoke-delta yes
run cm ca show Sub
like "ca show: a delta CRL on revocation" "$(cat "$T/out")" \
    'Delta CRL on revocation: yes'

# --- a first delivery --------------------------------------------------------

must cm crl issue --ca Root -o "$T/root.crl"
must cm crl issue --ca Sub -o "$T/sub.crl"
for n in 1 2 3; do
	issue_cert "c$n" Server "/CN=c$n.example.test" \
	    --san "DNS:c$n.example.test"
	eval "S$n=\$SERIAL"
done
check_refused 5 'CA "Sub" has issued no CIL' "cil export before any CIL" \
    cm cil export --ca Sub -o "$T/none.cil"
assert "... and writes no file" test ! -e "$T/none.cil"
run cm cil issue --ca Sub -o "$T/sub.cil" --der
is "cil issue: number 1" "$(cat "$T/out")" 1
check_fail 5 'CA "Sub" has no CIL number 7' "cil export of an unknown number" \
    cm cil export --ca Sub --number 7
check_refused 5 'CA "Nowhere" not found' "cil issue for an unknown CA" \
    cm cil issue --ca Nowhere
run da --once
is "cm-da --once: exit 0" "$RC" 0
is "... nothing left pending" "$(sqlv "$CM_DB" "SELECT count(*) FROM \
    publications WHERE state != 'delivered'")" 0
like "... one log line a delivery" "$(cat "$T/out")" \
    'cm-da: publication [0-9]+ delivered: rule web, Sub.crl \(HTTP 201\)'
W=$T/ngx/www/pki
must cm crl export --ca Sub --der -o "$T/sub.crl.der"
must cm crl export --ca Root --der -o "$T/root.crl.der"
assert "the Sub CRL arrived byte for byte" cmp "$T/sub.crl.der" "$W/Sub.crl"
assert "... and the Root CRL" cmp "$T/root.crl.der" "$W/Root.crl"
assert "the CIL arrived byte for byte" cmp "$T/sub.cil" "$W/Sub.cil"
openssl x509 -inform DER -in "$W/Root.crt" -out "$T/root.pem" 2>/dev/null
openssl x509 -inform DER -in "$W/Sub.crt" -out "$T/sub.pem" 2>/dev/null
check "the published chain and CRLs verify (openssl verify -crl_check_all)" \
    openssl verify -x509_strict -crl_check_all -CAfile "$T/root.pem" \
    -untrusted "$T/sub.pem" -CRLfile "$W/Root.crl" -CRLfile "$W/Sub.crl" \
    "$T/c1.pem"
is "the sink stored each certificate once" "$(ls "$T/post" | wc -l)" 3
assert "... as PEM, the certificate cm issued" cmp "$T/c2.pem" \
    "$T/post/$S2.pem"
is "... over mTLS as opencm-da, Content-Digest right, no repeats" \
    "$(awk '{ print $5, $6, $7 }' "$T/post.log" | sort -u)" \
    "new opencm-da digest-ok"

# The CIL: its ASN.1 and its signature, with openssl alone.
openssl asn1parse -inform DER -in "$W/Sub.cil" >"$T/cil.txt"
like "CIL: the serials of the valid certificates" \
    "$(grep -c 'prim: INTEGER' "$T/cil.txt")" '^5$'
for n in 1 2 3; do
	eval "s=\$S$n"
	assert "CIL lists c$n" grep -qi ":$s\$" "$T/cil.txt"
done
# tbsList: the first element; signatureValue: the BIT STRING's octets.
tbs=$(awk -F'[ :=]+' 'NR == 2 { print $2, $6 + $8 }' "$T/cil.txt")
dd if="$W/Sub.cil" of="$T/cil.tbs" bs=1 skip="${tbs% *}" count="${tbs#* }" \
    2>/dev/null
sig=$(awk -F'[ :=]+' '/BIT STRING/ { o = $2; h = $6; l = $8 } END {
    print o + h + 1, l - 1 }' "$T/cil.txt")
dd if="$W/Sub.cil" of="$T/cil.sig" bs=1 skip="${sig% *}" count="${sig#* }" \
    2>/dev/null
openssl x509 -in "$T/sub.pem" -pubkey -noout >"$T/sub.pub"
check "the CIL's signature verifies with the Sub CA's key (openssl dgst)" \
    openssl dgst -sha256 -verify "$T/sub.pub" -signature "$T/cil.sig" \
    "$T/cil.tbs"

# --- a delta CRL at once on revocation ---------------------------------------

run cm revoke "$S1" -r keyCompromise
is "revoke: exit 0, no warning" "$RC:$(grep -c warning "$T/err")" "0:0"
run cm crl list --ca Sub
like "the revocation issued a delta CRL at once" "$(tail -n 1 "$T/out")" \
    "^[0-9]+${TAB}delta${TAB}"
is "... in the revocation's own transaction (its audit record first)" \
    "$(sqlv "$CM_DB" "SELECT action || ' ' || detail FROM audit ORDER BY \
    seq DESC LIMIT 2" | cut -d, -f1 | tr '\n' '|')" \
    "cert.revoke reason keyCompromise|crl.issue delta CRL $(sqlv "$CM_DB" \
    "SELECT max(number) FROM crls c JOIN cas a ON a.id = c.ca_id WHERE \
    a.name = 'Sub'")|"
check "cm-da delivers it" da --once -q
check "the delta CRL lists the certificate (openssl crl)" \
    sh -c "openssl crl -inform DER -in '$W/Sub-delta.crl' -noout -text |
    grep -qi 'Serial Number: $S1'"
check "openssl verify -crl_check_all -use_deltas: c1 is revoked" \
    sh -c "! openssl verify -x509_strict -crl_check_all -use_deltas \
    -CAfile '$T/root.pem' -untrusted '$T/sub.pem' -CRLfile '$W/Root.crl' \
    -CRLfile '$W/Sub.crl' -CRLfile '$W/Sub-delta.crl' '$T/c1.pem' 2>&1 |
    grep -q OK && openssl verify -crl_check_all -use_deltas \
    -CAfile '$T/root.pem' -untrusted '$T/sub.pem' -CRLfile '$W/Root.crl' \
    -CRLfile '$W/Sub.crl' -CRLfile '$W/Sub-delta.crl' '$T/c1.pem' 2>&1 |
    grep -q 'certificate revoked'"

# --- server down, supersession, backoff, failed, retry -----------------------

nginx_stop
must cm crl issue --ca Sub -o /dev/null
must cm crl issue --ca Sub -o /dev/null
assert "-o /dev/null writes to the device, never replaces it" test -c /dev/null
run da --once
is "server down: cm-da --once exits 1" "$RC" 1
like "... and says why" "$(cat "$T/out")" \
    'Sub.crl, attempt 1: .*(onnect|refused)'
is "the older of two undelivered CRLs is superseded, never sent" \
    "$(sqlv "$CM_DB" "SELECT state FROM publications WHERE target = \
    'Sub.crl' ORDER BY id DESC LIMIT 2" | tr '\n' ' ')" \
    "pending superseded "
run cm publish status
like "publish status shows the failure" "$(line_for web "$T/out")" \
    "pending 1${TAB}delivered [0-9]+${TAB}failed 0${TAB}superseded 1${TAB}\
.*onnect"
first=$(sqlv "$CM_DB" "SELECT next_try - (SELECT max(time) FROM audit \
    WHERE action = 'publish.fail') FROM publications WHERE state = \
    'pending'")
is "backoff: the first retry waits da.retry-base" "$first" 2
run da --once
is "before then the item is not tried" "$(sqlv "$CM_DB" "SELECT attempts \
    FROM publications WHERE state = 'pending'")" 1
sleep 2.2
run da --once
second=$(sqlv "$CM_DB" "SELECT next_try - (SELECT max(time) FROM audit \
    WHERE action = 'publish.fail') FROM publications WHERE state = \
    'pending'")
is "... the second waits twice as long" "$second" 4
sleep 4.2
run da --once
like "after da.max-attempts the item is failed for good" "$(cat "$T/out")" \
    'failed for good: rule web, Sub.crl, attempt 3'
run cm publish list --state failed
is "... and listed as failed, with its last error" "$(cut -f2,6,10 \
    "$T/out")" "failed${TAB}Sub.crl${TAB}-"
nginx_start "$T/ngx" 2>/dev/null
NGX_PORT2=$NGINX_PORT
# The rule names the old port: give nginx that one back.
nginx_stop
sed -i "s/127.0.0.1:$NGX_PORT2 ssl/127.0.0.1:$NGX_PORT ssl/" "$T/ngx/nginx.conf"
"$NGINX" -p "$T/ngx" -e "$T/ngx/early.log" -c "$T/ngx/nginx.conf" 9>&- &
NGINX_PID=$!
bg_track "$NGINX_PID"
_wait_port "$NGX_PORT" || die "nginx did not come back"
check "publish retry puts it back" cm publish retry
run cm publish list --state pending
like "a pending item's line ends with when it is tried next" \
    "$(tail -n 1 "$T/out")" "${TAB}20[0-9-]+T[0-9:]+Z\$"
check "cm-da delivers it" da --once -q
must cm crl export --ca Sub --der -o "$T/sub2.crl.der"
assert "the server has the newest CRL, not the superseded one" \
    cmp "$T/sub2.crl.der" "$W/Sub.crl"

# --- HTTP 500, wrong server CA, client certificate refused -------------------

fault_rule() {
	_n=$1
	shift
	must cm dist-rule create -n "$_n" --publish crl "$@"
	must cm dist-rule attach "$_n" --ca Root
}
fault_rule broken --url "https://127.0.0.1:$NGX_PORT/broken/" --method PUT \
    --server-ca "$T/tls/ca.pem" --client "$T/client.p12" \
    --client-pass-file "$T/p12.pw"
fault_rule stranger --url "https://127.0.0.1:$NGX_PORT/pki/" --method PUT \
    --server-ca "$T/tls/rogue-ca.pem" --client "$T/client.p12" \
    --client-pass-file "$T/p12.pw"
fault_rule refused --url "https://127.0.0.1:$NGX_PORT/pki/" --method PUT \
    --server-ca "$T/tls/ca.pem" --client "$T/rogue.p12" \
    --client-pass-file "$T/p12.pw"
fault_rule nocert --url "https://localhost:$POST_PORT/in" --method POST \
    --server-ca "$T/tls/ca.pem"
must cm crl issue --ca Root -o /dev/null
run da --once
is "faults: cm-da --once exits 1" "$RC" 1
err_of() {
	sqlv "$CM_DB" "SELECT p.last_error FROM publications p JOIN dist_rules \
	    r ON r.id = p.rule_id WHERE r.name = '$1' AND p.state = 'pending'"
}
like "HTTP 500 is an error, with the server's words" "$(err_of broken)" \
    '^HTTP 500: 500 Internal Server Error'
like "a server certificate from another CA is not trusted" \
    "$(err_of stranger)" "server's certificate is not trusted"
like "nginx refuses a client certificate from another CA (HTTP 400)" \
    "$(err_of refused)" '^HTTP 400: .*SSL certificate'
like "the sink refuses a client without a certificate (TLS)" \
    "$(err_of nocert)" '(curl 35|curl 55|curl 56|SSL|reset)'
is "... and the web rule's item still went" "$(sqlv "$CM_DB" "SELECT state \
    FROM publications p JOIN dist_rules r ON r.id = p.rule_id WHERE r.name \
    = 'web' ORDER BY p.id DESC LIMIT 1")" delivered
run cm publish status
like "publish status: the failure of each rule" "$(line_for stranger \
    "$T/out")" "pending 1${TAB}.*not trusted"

# --- slow server -------------------------------------------------------------

sink_start slow --delay 4
must cm dist-rule create -n slow --url "https://127.0.0.1:$SINK_PORT/up" \
    --method POST --publish crl --server-ca "$T/tls/ca.pem"
must cm dist-rule attach slow --ca Sub
must cm crl issue --ca Sub -o /dev/null
run da --once
like "a server that does not answer in da.timeout: an error" \
    "$(err_of slow)" '^no answer in 2 s'
sink_stop

# --- SIGKILL in the middle of a batch ----------------------------------------

sink_start batch --delay 0.4 --client-ca "$T/tls/ca.pem"
must cm dist-rule create -n batch --url "https://localhost:$SINK_PORT/in" \
    --method POST --publish certs --server-ca "$T/tls/ca.pem" \
    --client "$T/client.p12" --client-pass-file "$T/p12.pw"
mkproc Batch Sub server
must cm dist-rule attach batch --procedure Batch
for n in 1 2 3 4 5 6 7 8; do
	issue_cert "b$n" Batch "/CN=b$n.example.test" \
	    --san "DNS:b$n.example.test"
done
"$CMDA" --pin-file "$PIN" --once -q >/dev/null 2>&1 &
DA_PID=$!
bg_track "$DA_PID"
i=0
while [ "$(cat "$T/batch.log" 2>/dev/null | wc -l)" -lt 3 ] &&
    [ $i -lt 200 ]; do
	sleep 0.02
	i=$((i + 1))
done
kill -KILL "$DA_PID"
wait "$DA_PID" 2>/dev/null
bg_untrack "$DA_PID"
left=$(sqlv "$CM_DB" "SELECT count(*) FROM publications p JOIN dist_rules \
    r ON r.id = p.rule_id WHERE r.name = 'batch' AND p.state = 'pending'")
like "killed mid-batch: items are left in the queue" "$left" '^[1-8]$'
check "cm-da restarted delivers the rest" da --once -q
is "every item is delivered" "$(sqlv "$CM_DB" "SELECT count(*) FROM \
    publications p JOIN dist_rules r ON r.id = p.rule_id WHERE r.name = \
    'batch' AND p.state = 'delivered'")" 8
is "... and stored exactly once" "$(ls "$T/batch" | wc -l):$(grep -c ' new ' \
    "$T/batch.log")" "8:8"
like "the item in flight at the kill went again, and was seen as a repeat" \
    "$(grep -c ' repeat ' "$T/batch.log")" '^[1-9]'
is "... with the same key and bytes as the first time" "$(awk '
    $5 == "repeat" { r[$3] = $4 }
    $5 == "new" { n[$3] = $4 }
    END { for (k in r) if (r[k] != n[k]) print "differs", k }' \
    "$T/batch.log")" ""
bad=0
for n in 1 2 3 4 5 6 7 8; do
	s=$(cat "$T/b$n.serial")
	openssl x509 -in "$T/b$n.pem" -outform DER -out "$T/b$n.der"
	cmp -s "$T/b$n.der" "$T/batch/$s.cer" || bad=$((bad + 1))
done
is "... each with the right bytes" "$bad" 0
sink_stop

# --- the daemon: scheduled CRLs, SIGTERM -------------------------------------

run sh -c "'$CMCTL' revoke '$S2' -r superseded </dev/null"
is "revoked without the key store's passphrase: exit 0" "$RC" 0
like "... and a warning that the delta CRL was not issued" "$(cat "$T/err")" \
    'cmctl: warning: the delta CRL of CA "Sub" on revocation was not issued'
like "... which the revocation's audit record says" "$(sqlv "$CM_DB" \
    "SELECT detail FROM audit WHERE action = 'cert.revoke' ORDER BY seq \
    DESC LIMIT 1")" 'CRL of CA "Sub" on revocation was not issued: .*opened'
mkroot Fresh ec:p256 --crl-interval 6s
must cm dist-rule attach web --ca Fresh
"$CMDA" --pin-file "$PIN" >"$T/daemon.out" 2>&1 &
DA_PID=$!
bg_track "$DA_PID"
i=0
until [ -s "$W/Fresh.crl" ] && [ -s "$W/Fresh.cil" ] &&
    [ "$(sqlv "$CM_DB" "SELECT count(*) FROM crls c JOIN cas a ON a.id = \
    c.ca_id WHERE a.name = 'Fresh'")" -ge 2 ] || [ $i -ge 150 ]; do
	sleep 0.1
	i=$((i + 1))
done
like "the daemon issues a CA's first CRL and CIL at once" \
    "$(cat "$T/daemon.out")" 'CA "Fresh": full CRL 1 issued'
like "... and the next before nextUpdate less the margin" \
    "$(cat "$T/daemon.out")" 'CA "Fresh": full CRL 2 issued'
like "... and the delta CRL that the revocation could not issue" \
    "$(cat "$T/daemon.out")" 'CA "Sub": delta CRL [0-9]+ issued'
check "... and delivers them" test -s "$W/Fresh.cil"
kill -TERM "$DA_PID"
wait "$DA_PID"
is "SIGTERM: the daemon stops cleanly, exit 0" "$?" 0
bg_untrack "$DA_PID"
like "... and says so" "$(tail -n 1 "$T/daemon.out")" 'cm-da: stopped'

sink_start hang --delay 30
must cm dist-rule create -n hang --url "https://127.0.0.1:$SINK_PORT/up" \
    --method POST --publish crl --server-ca "$T/tls/ca.pem"
must cm dist-rule attach hang --ca Root
is "attached to a CA, a rule gets its current CRL at once" \
    "$(sqlv "$CM_DB" "SELECT p.kind, p.number FROM publications p JOIN \
    dist_rules r ON r.id = p.rule_id WHERE r.name = 'hang'")" \
    "crl|$(sqlv "$CM_DB" "SELECT max(number) FROM crls c JOIN cas a ON \
    a.id = c.ca_id WHERE a.name = 'Root'")"
must cm crl issue --ca Root -o /dev/null
printf 'da.timeout = 60s\n' >>"$T/cm.conf"
"$CMDA" --pin-file "$PIN" --no-crls >"$T/daemon2.out" 2>&1 &
DA_PID=$!
bg_track "$DA_PID"
i=0
while [ "$(cat "$T/hang.log" 2>/dev/null | wc -l)" -lt 1 ] &&
    [ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
t0=$(now_ms)
kill -TERM "$DA_PID"
wait "$DA_PID"
rc=$?
bg_untrack "$DA_PID"
t1=$(now_ms)
is "SIGTERM in a transfer: exit 0" "$rc" 0
assert "... at once, not after the transfer's timeout" \
    test $((t1 - t0)) -lt 5000
is "... and the item stays pending, not counted as an attempt" \
    "$(sqlv "$CM_DB" "SELECT state, attempts FROM publications p JOIN \
    dist_rules r ON r.id = p.rule_id WHERE r.name = 'hang' AND p.state != \
    'superseded'")" "pending|0"
sink_stop

# --- one agent a CMDB, and the audit log -------------------------------------

cp "$CM_CONF" "$T/good.conf"
printf 'da.poll = soon\n' >>"$CM_CONF"
cmdb_snapshot "$T/snap.before"
run da --once
is "a bad da.poll in cm.conf: exit 3" "$RC" 3
like "... one line naming the key and the rule" "$(cat "$T/err")" \
    '^cm-da: cm.conf: da.poll "soon" is not a duration of 1s or more$'
cmdb_snapshot "$T/snap.after"
assert_same_snapshot "... and the CMDB unchanged" "$T/snap.before" \
    "$T/snap.after"
cp "$T/good.conf" "$CM_CONF"
exec 8>"$CM_DB.da-lock"
flock 8
run da --once
is "a second delivery agent is refused (exit 8)" "$RC" 8
like "... saying why" "$(cat "$T/err")" 'another delivery agent'
exec 8>&-
check "audit verify: every attempt is in the hash chain" cm audit verify
run cm audit list --action publish.
like "the audit log names each delivery" "$(cat "$T/out")" \
    'publish.deliver.*rule web, PUT Sub.crl: HTTP 20[14]'
unlike "... and never a secret" "$(sqlv "$CM_DB" "SELECT * FROM audit")" \
    'Twelve-p12'

done_testing
