#!/bin/sh
# t-da-hsm.sh: cm-da's TLS client key on a PKCS#11 token (SoftHSM2): the
# key never leaves the token, the handshake signs there; a wrong PIN makes
# the rule's items fail with a reason that names the token, and nothing
# is lost.
# shellcheck source=tests/regress/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/regress/lib-hsm.sh
. "$top_srcdir/tests/regress/lib-hsm.sh"
# shellcheck source=tests/regress/lib-https.sh
. "$top_srcdir/tests/regress/lib-https.sh"

plan 11

hsm_init
hsm_token "TLS HSM" 4321
pki_basic
tls_pki
# The client key goes onto the token and off the disk.
openssl pkcs8 -topk8 -nocrypt -in "$T/tls/client.key" -outform DER \
    -out "$T/client.p8" || die "pkcs8"
openssl x509 -in "$T/tls/client.pem" -outform DER -out "$T/client.der"
must p11 --login --pin 4321 --token-label "TLS HSM" --write-object \
    "$T/client.p8" --type privkey --id 42 --label tls-client
must p11 --login --pin 4321 --token-label "TLS HSM" --write-object \
    "$T/client.der" --type cert --id 42 --label tls-client
rm -f "$T/client.p8" "$T/tls/client.key"
run p11 --login --pin 4321 --token-label "TLS HSM" --list-objects
like "the token holds the TLS client key, sensitive" "$(cat "$T/out")" \
    'Private Key Object; EC'
hsm_conf "TLS HSM"
printf 'da.retry-base = 1s\n' >>"$T/cm.conf"
printf '4321\n' >"$T/TLS HSM.pin"

sink_start post --client-ca "$T/tls/ca.pem"
check "a rule whose client key is on the token" \
    cm dist-rule create -n feed --url "https://127.0.0.1:$SINK_PORT/in" \
    --method POST --publish certs --server-ca "$T/tls/ca.pem" \
    --client "pkcs11:token=TLS%20HSM;object=tls-client"
must cm dist-rule attach feed --procedure Server
issue_cert h1 Server "/CN=h1.example.test" --san DNS:h1.example.test
check "cm-da delivers over TLS with the token's key" da --once -q
is "the server saw the client certificate from the token" \
    "$(awk '{ print $1, $5, $6, $7 }' "$T/post.log")" \
    "POST new opencm-da digest-ok"
assert "... and stored the certificate" test -s "$T/post/$SERIAL.cer"

printf '9999\n' >"$T/TLS HSM.pin"
issue_cert h2 Server "/CN=h2.example.test" --san DNS:h2.example.test
run da --once
is "a wrong token PIN: cm-da --once exits 1" "$RC" 1
like "... the item's error names the token and the failed login" \
    "$(sqlv "$CM_DB" "SELECT last_error FROM publications WHERE state = \
    'pending'")" 'TLS HSM.*(PIN|C_Login)'
printf '4321\n' >"$T/TLS HSM.pin"
sleep 1.1
check "with the PIN right again the item goes, nothing lost" da --once -q

# The daemon does not try a wrong PIN again (a token locks) until SIGHUP.
printf '9999\n' >"$T/TLS HSM.pin"
printf 'da.poll = 1s\n' >>"$T/cm.conf"
issue_cert h3 Server "/CN=h3.example.test" --san DNS:h3.example.test
"$CMDA" --pin-file "$PIN" --no-crls >"$T/daemon.out" 2>&1 &
DA_PID=$!
bg_track "$DA_PID"
i=0
until grep -q 'not delivered' "$T/daemon.out" || [ $i -ge 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
like "the daemon: a wrong PIN fails the item, not to be tried again" \
    "$(cat "$T/daemon.out")" 'wrong PIN \(not tried again until cm-da'
printf '4321\n' >"$T/TLS HSM.pin"
kill -HUP "$DA_PID"
i=0
until grep -q "[0-9] delivered: rule feed, $SERIAL" "$T/daemon.out" ||
    [ $i -ge 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
like "SIGHUP: the PIN is tried again and the item goes" \
    "$(tr '\n' ' ' <"$T/daemon.out")" \
    "SIGHUP.*[0-9] delivered: rule feed, $SERIAL"
kill -TERM "$DA_PID"
wait "$DA_PID"
is "... and SIGTERM stops the daemon, exit 0" "$?" 0
bg_untrack "$DA_PID"
sink_stop

done_testing
