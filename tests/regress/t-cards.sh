#!/bin/sh
# t-cards.sh: smart card personalization through PKCS#11, with SoftHSM2
# tokens as the cards: blank cards initialized and personalized under a
# token procedure, keys made on the card, certificates written beside
# them (read back and checked with pkcs11-tool and openssl), serial number
# ranges, unblock, revoke, replace, and a failure half-way that must leave
# nothing issued and nothing on the card.
# shellcheck source=tests/regress/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/regress/lib-hsm.sh
. "$top_srcdir/tests/regress/lib-hsm.sh"

TAB=$(printf '\t')
plan 84

hsm_init
# Cards come and go: a free slot is a blank card.
printf 'slots.removable = true\n' >>"$SOFTHSM2_CONF"
hsm_conf
pki_init
mkroot Root ec:p256
export_ca Root "$T/root.pem"
mkproc Auth Root client
mkproc Enc Root email --key-usage digitalSignature,keyEncipherment
must cm token-procedure create -n "Employee card" --storage smartcard \
    --cert-procedure Auth --cert-procedure Enc --key-type rsa:2048 \
    --issuer-certs ca
must cm subject register -s "O=opencm test,CN=Alice Smith" \
    --email alice@example.test
must cm subject register -s "O=opencm test,CN=Bob Jones" \
    --email bob@example.test

# --- a blank card, personalized ---------------------------------------------

check "card personalize on the blank card present" \
    cm card personalize -P "Employee card" --subject "O=opencm test,CN=Alice Smith" \
    -o "$T/alice.pem"
cp "$T/out" "$T/alice.out"
PIN1=$(sed -n 's/^PIN: //p' "$T/alice.out")
like "the new user PIN is shown once: 8 digits" "$PIN1" '^[0-9]{8}$'
is "two certificates were issued" "$(grep -c '^Certificate: ' "$T/alice.out")" 2
run cm card list
SER1=$(field 1 <"$T/out" | head -1)
like "card list: the card, personalized, for Alice" "$(cat "$T/out")" \
    "^[0-9a-f]{16}${TAB}personalized${TAB}SoftHSM project SoftHSM v2${TAB}Alice Smith${TAB}O=opencm test,CN=Alice Smith\$"
is "the card's serial number is the token's" "$SER1" \
    "$(softhsm2-util --show-slots | awk '/Serial number:/ && NF == 3 { print $3 }' | head -1)"
assert "the token records the card serial" \
    test "$(sqlv "$CM_DB" "SELECT card_serial FROM tokens WHERE id = 1")" = "$SER1"
like "the SO PIN is sealed in the CMDB, never in clear" \
    "$(sqlv "$CM_DB" "SELECT hex(substr(so_pin, 1, 2)) FROM cards")" '^30'
sqlite3 "$CM_DB" "SELECT writefile('$T/so.der', so_pin) FROM cards" >/dev/null
run openssl asn1parse -inform DER -in "$T/so.der"
like "... PBES2 with scrypt and AES-256-CBC, as soft keys are" \
    "$(tr '\n' ' ' <"$T/out")" ':PBES2 .*:scrypt .*:aes-256-cbc'

run p11 --token-label "Alice Smith" --login --pin "$PIN1" --list-objects
cp "$T/out" "$T/card1.objects"
is "the card holds two private keys, never extractable" \
    "$(grep -c 'Access: *sensitive, always sensitive, never extractable, local' "$T/card1.objects")" 2
is "the card holds three certificates (two keys' and the CA's)" \
    "$(grep -c 'Certificate Object' "$T/card1.objects")" 3
like "the encryption key also decrypts (keyEncipherment)" \
    "$(sed -n '/label: *Enc/,/Access/p' "$T/card1.objects")" 'Usage: *decrypt, sign'
for id in 01 02; do
	must p11 --token-label "Alice Smith" --read-object --type cert --id "$id" \
	    -o "$T/card-$id.der"
	openssl x509 -inform DER -in "$T/card-$id.der" -out "$T/card-$id.pem"
	assert "certificate $id on the card verifies under Root" \
	    openssl verify -x509_strict -CAfile "$T/root.pem" "$T/card-$id.pem"
	must p11 --token-label "Alice Smith" --read-object --type pubkey \
	    --id "$id" -o "$T/pub-$id.der"
	is "certificate $id is for the key with id $id on the card" \
	    "$(openssl pkey -pubin -inform DER -in "$T/pub-$id.der" -outform DER | sha256sum)" \
	    "$(openssl x509 -in "$T/card-$id.pem" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum)"
done
printf 'signed on the card\n' >"$T/data"
must p11 --token-label "Alice Smith" --login --pin "$PIN1" --sign --id 01 \
    -m SHA256-RSA-PKCS -i "$T/data" -o "$T/data.sig"
openssl x509 -in "$T/card-01.pem" -noout -pubkey >"$T/card-01.pub"
assert "a signature made on the card verifies with its certificate" \
    openssl dgst -sha256 -verify "$T/card-01.pub" -signature "$T/data.sig" "$T/data"
is "the certificates given out are the card's" \
    "$(pem_count "$T/alice.pem")" 2

run cm card show "$SER1"
like "card show names the token and its certificates" "$(cat "$T/out")" \
    'Token procedure: Employee card'
is "card show lists both certificates, valid" \
    "$(grep -c '^Certificate: .*valid' "$T/out")" 2

# --- refusals ---------------------------------------------------------------

check_refused 5 'token procedure "No such" not found' \
    "an unknown token procedure is refused" \
    cm card personalize -P "No such" --subject "O=opencm test,CN=Bob Jones"
must cm token-procedure create -n "Soft tokens" --storage pkcs12 \
    --cert-procedure Auth --key-type rsa:2048
check_refused 4 'stores pkcs12 tokens, not smart cards' \
    "a PKCS#12 token procedure is refused for cards" \
    cm card personalize -P "Soft tokens" --subject "O=opencm test,CN=Bob Jones"
# SoftHSM always offers one free slot: a blank card is always present.
check_refused 4 "card $SER1 is personalized already" \
    "a personalized card is not personalized again" \
    cm card personalize -P "Employee card" --subject "O=opencm test,CN=Bob Jones" \
    --card "pkcs11:serial=$SER1"
hsm_token "Foreign card" 1234
check_refused 4 'it was not initialized by opencm' \
    "a card opencm did not initialize is refused" \
    cm card personalize -P "Employee card" --subject "O=opencm test,CN=Bob Jones" \
    --card "pkcs11:token=Foreign%20card"
check_refused 2 'card personalize -P' "personalize without a subject" \
    cm card personalize -P "Employee card"

# --- serial number ranges ---------------------------------------------------

check_refused 3 'serial number range "zz-aaa"' "a bad range is refused" \
    cm token-procedure create -n "Ranged" --storage smartcard \
    --cert-procedure Auth --serial-range mandatory --serial-ranges zz-aaa
check "a token procedure whose serial number range is mandatory" \
    cm token-procedure create -n "Ranged" --storage smartcard \
    --cert-procedure Auth --key-type ec:p256 --serial-range mandatory
check_refused 4 'token procedure "Ranged" wants the card serial number in a registered range, and has none' \
    "with no range registered, no card is personalized" \
    cm card personalize -P Ranged --subject "O=opencm test,CN=Bob Jones"
check "a serial number range registered" \
    cm token-procedure modify -n "Ranged" \
    --serial-ranges 0000000000000000-0000000000000001
run cm token-procedure show Ranged
like "token-procedure show prints the ranges" "$(cat "$T/out")" \
    'Serial ranges: 0000000000000000-0000000000000001'
run cm card personalize -P Ranged --subject "O=opencm test,CN=Bob Jones"
is "a card outside the ranges is refused (exit 4)" "$RC" 4
like "... naming the card and the ranges" "$(cat "$T/err")" \
    'its serial number is in no range of token procedure "Ranged" \(0000000000000000-0000000000000001\)'
run cm card list --state initialized
SER2=$(field 1 <"$T/out" | head -1)
assert "the refused card stays initialized, known to opencm" test -n "$SER2"
check "the ranges modified to take the card" \
    cm token-procedure modify -n Ranged --serial-ranges "$SER2-$SER2"
check "the card inside the range is personalized" \
    cm card personalize -P Ranged --subject "O=opencm test,CN=Bob Jones" \
    --card "pkcs11:serial=$SER2"
PIN2=$(sed -n 's/^PIN: //p' "$T/out")
check "audit verify after the range changes" cm audit verify

# --- unblock ----------------------------------------------------------------

check "card unblock gives a new user PIN" cm card unblock "$SER2"
PIN3=$(sed -n 's/^PIN: //p' "$T/out")
isnt "the new PIN differs" "$PIN3" "$PIN2"
label2=$(softhsm2-util --show-slots | awk -v s="$SER2" '
	/Serial number:/ { ser = $3 } /Label:/ && ser == s {
	sub(/^[ \t]*Label:[ \t]*/, ""); sub(/[ \t]+$/, ""); print }')
run p11 --token-label "$label2" --login --pin "$PIN3" --list-objects --type privkey
is "the new PIN opens the card" "$RC" 0
run p11 --token-label "$label2" --login --pin "$PIN2" --list-objects --type privkey
isnt "the old PIN does not" "$RC" 0
check_refused 5 'card 0123 not found' "unblock of an unknown card" \
    cm card unblock 0123

# --- replace a lost card ----------------------------------------------------

check "card replace: a new card for Alice's lost one" \
    cm card replace "$SER1" -r keyCompromise
cp "$T/out" "$T/replace.out"
run cm card list
SER3=$(awk -F"$TAB" -v a="$SER1" -v b="$SER2" '$1 != a && $1 != b && $2 == "personalized" { print $1 }' "$T/out")
assert "the new card is personalized for Alice" \
    grep -q "^$SER3${TAB}personalized${TAB}.*CN=Alice Smith\$" "$T/out"
assert "the lost card is revoked" grep -q "^$SER1${TAB}revoked" "$T/out"
run cm card show "$SER3"
like "the new card records the card it replaces" "$(cat "$T/out")" \
    "Replaces: $SER1"
run cm card show "$SER1"
is "both certificates of the lost card are revoked" \
    "$(grep -c '^Certificate: .*revoked' "$T/out")" 2
must cm crl issue --ca Root -o "$T/root.crl"
run openssl verify -crl_check -CRLfile "$T/root.crl" -CAfile "$T/root.pem" \
    "$T/card-01.pem"
like "the CRL revokes the lost card's certificate" "$(cat "$T/out" "$T/err")" \
    'certificate revoked'
like "the audit log records the replacement" \
    "$(sqlv "$CM_DB" "SELECT detail FROM audit WHERE action = 'card.personalize' ORDER BY seq DESC LIMIT 1")" \
    "card $SER3, replacing token 1 \\(keyCompromise, 2 certificates revoked\\)"

# --- a failure half-way leaves nothing --------------------------------------

sqlite3 "$CM_DB" "CREATE TRIGGER fault BEFORE UPDATE OF state ON cards
    WHEN NEW.state = 'personalized' BEGIN
    SELECT RAISE(ABORT, 'injected fault'); END;"
certs_before=$(sqlv "$CM_DB" "SELECT count(*) FROM certs")
run cm card personalize -P "Employee card" --subject "O=opencm test,CN=Bob Jones" \
    --label "Retry card"
isnt "personalization fails when the CMDB refuses the card" "$RC" 0
like "... and says nothing was issued" "$(cat "$T/err")" 'nothing was issued'
sqlite3 "$CM_DB" "DROP TRIGGER fault;"
is "no certificate was issued" "$(sqlv "$CM_DB" "SELECT count(*) FROM certs")" \
    "$certs_before"
run cm card list --state initialized
SER4=$(field 1 <"$T/out" | head -1)
run p11 --token-label "Retry card" --list-objects --type cert
is "the card holds no certificate: the rollback destroyed what was written" \
    "$(grep -c 'Certificate Object' "$T/out")" 0
check "... the card can be personalized again" \
    cm card personalize -P "Employee card" --subject "O=opencm test,CN=Bob Jones" \
    --card "pkcs11:serial=$SER4"
PIN4=$(sed -n 's/^PIN: //p' "$T/out")
run p11 --token-label "Retry card" --login --pin "$PIN4" --list-objects
is "... and then holds just its own keys and certificates" \
    "$(grep -c 'Object;' "$T/out")" 7

# --- pre-personalization: card init -----------------------------------------

check "card init on the blank card: a transport PIN is made" \
    cm card init --label "Pre card"
SER5=$(sed -n 's/^Card: //p' "$T/out")
TPIN=$(sed -n 's/^Transport PIN: //p' "$T/out")
like "... shown once, 8 digits" "$TPIN" '^[0-9]{8}$'
run p11 --token-label "Pre card" --login --pin "$TPIN" --list-objects
is "the transport PIN opens the initialized card" "$RC" 0
run cm card list --state initialized
assert "card list shows it initialized" grep -q "^$SER5${TAB}initialized" "$T/out"
check "the pre-personalized card is personalized" \
    cm card personalize -P "Employee card" --subject "O=opencm test,CN=Bob Jones" \
    --card "pkcs11:serial=$SER5"
run p11 --token-label "Pre card" --login --pin "$TPIN" --list-objects
isnt "... and the transport PIN no longer opens it" "$RC" 0
printf '24682468\n' >"$T/transport.pin"
check "card init with a transport PIN from a file" \
    cm card init --label "Pre card 2" --transport-pin-file "$T/transport.pin"
unlike "... prints no PIN" "$(cat "$T/out")" 'PIN'
run p11 --token-label "Pre card 2" --login --pin 24682468 --list-objects
is "... and the card opens with it" "$RC" 0
check_refused 4 'only a blank or a revoked card is initialized' \
    "an initialized card is not initialized again" \
    cm card init --label "Again" --card "pkcs11:token=Pre%20card%202"
check_refused 3 'a label of 1 to 32 bytes' "card init needs a label of 32 bytes at most" \
    cm card init --label "0123456789012345678901234567890123"

# --- PIN letters -------------------------------------------------------------

must cm token-procedure create -n "Letter card" --storage smartcard \
    --cert-procedure Auth --key-type ec:p256 --pin-procedure letter
must cm subject register -s "O=opencm test,CN=Dan Letter"
check_fail 2 'hands out PIN letters: give --pin-letter FILE' \
    "a letter procedure wants a PIN letter file" \
    cm card personalize -P "Letter card" --subject "O=opencm test,CN=Dan Letter"
check "personalize with a PIN letter" \
    cm card personalize -P "Letter card" --subject "O=opencm test,CN=Dan Letter" \
    --label "Letter card" --pin-letter "$T/dan.letter"
unlike "the PIN is not printed" "$(cat "$T/out")" 'PIN'
LPIN=$(sed -n 's/^PIN: //p' "$T/dan.letter")
like "the letter holds the PIN" "$LPIN" '^[0-9]{8}$'
like "... readable by its owner only" "$(ls -l "$T/dan.letter")" '^-rw-------'
run p11 --token-label "Letter card" --login --pin "$LPIN" --list-objects --type privkey
is "the PIN of the letter opens the card" "$RC" 0

# --- revoke ---------------------------------------------------------------

check "card revoke" cm card revoke "$SER2" -r cessationOfOperation
check_refused 4 "card $SER2 is revoked" "a revoked card is not revoked again" \
    cm card revoke "$SER2" -r keyCompromise
check "audit verify at the end" cm audit verify
done_testing
