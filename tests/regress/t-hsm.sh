#!/bin/sh
# t-hsm.sh: CA keys on a PKCS#11 token (SoftHSM2 as the HSM): keys made on
# the token, CAs, certificates and CRLs signed there and checked by
# openssl; the token absent, a wrong PIN, a failed change that must leave
# nothing on the token.
# shellcheck source=tests/regress/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/regress/lib-hsm.sh
. "$top_srcdir/tests/regress/lib-hsm.sh"

TAB=$(printf '\t')
plan 56

hsm_init
hsm_token CA-HSM 4711
printf '4711\n' >"$T/CA-HSM.pin"
hsm_conf CA-HSM
pki_init

# --- keys made on the token -------------------------------------------------

check "key create rsa:3072 on the token" \
    cm key create -n root-key -t rsa:3072 --device pkcs11:token=CA-HSM
check "key create ec:p256 on the token" \
    cm key create -n sub-key -t ec:p256 --device "pkcs11:token=CA-HSM"
check "key create ec:p384 on the token, named by serial" \
    cm key create -n p384-key -t ec:p384 --device "pkcs11:serial=$HSM_SERIAL"

run cm key list
like "key list: the device of a token key is its PKCS#11 URI" \
    "$(line_for root-key "$T/out")" \
    "^root-key${TAB}[0-9A-F]{40}${TAB}rsa:3072${TAB}pkcs11:token=CA-HSM;serial=$HSM_SERIAL;id=(%[0-9A-F]{2}){16};object=root-key${TAB}in use\$"
is "the CMDB holds no private key for token keys" \
    "$(sqlv "$CM_DB" "SELECT count(*) FROM keys WHERE private IS NOT NULL")" 0

run p11 --token-label CA-HSM --login --pin 4711 --list-objects --type privkey
cp "$T/out" "$T/objects"
assert "pkcs11-tool sees the private key root-key on the token" \
    grep -q 'label: *root-key' "$T/objects"
is "every private key on the token is sensitive and never extractable" \
    "$(grep -c 'Access: *sensitive, always sensitive, never extractable' \
    "$T/objects")" 3

# The Identifier is the SHA-1 of the public key the token holds.
run cm key list
cp "$T/out" "$T/keys"
id=$(line_for sub-key "$T/keys" | field 4 | sed 's/.*id=\([^;]*\);.*/\1/' |
    tr -d '%' | tr 'A-F' 'a-f')
must p11 --token-label CA-HSM --read-object --type pubkey --id "$id" \
    -o "$T/sub-pub.der"
openssl pkey -pubin -inform DER -in "$T/sub-pub.der" -out "$T/sub-pub.pem" \
    2>/dev/null
is "the Identifier is the key identifier of the public key on the token" \
    "$(line_for sub-key "$T/keys" | field 2)" "$(keyid_of "$T/sub-pub.pem")"

# --- CAs, certificates and CRLs signed on the token -------------------------

check "a self-signed root CA with its key on the token" \
    cm ca create -n Root -k root-key -s "C=SE,O=opencm test,CN=HSM Root" \
    --self-signed
check "a sub CA on the token, issued by the root on the token" \
    cm ca create -n Sub -k sub-key -s "C=SE,O=opencm test,CN=HSM Sub" -i Root
mkkey soft-key ec:p256
check "a sub CA with a soft key under the token root: interchangeable" \
    cm ca create -n Soft -k soft-key -s "C=SE,O=opencm test,CN=Soft Sub" \
    -i Root
export_ca Root "$T/root.pem"
export_ca Sub "$T/sub.pem"
export_ca Soft "$T/soft.pem"
mkproc Server Sub server
mkproc SoftServer Soft server
issue_cert leaf Server "/CN=hsm.example.test" --san DNS:hsm.example.test
issue_cert leaf2 SoftServer "/CN=soft.example.test" --san DNS:soft.example.test
check "revoke a certificate of the soft CA" cm revoke "$SERIAL" \
    -r keyCompromise
check "a CRL of the root, signed on the token" \
    cm crl issue --ca Root -o "$T/root.crl"
check "a CRL of the sub CA, signed on the token" \
    cm crl issue --ca Sub -o "$T/sub.crl"
check "a CRL of the soft sub CA" cm crl issue --ca Soft -o "$T/soft.crl"

assert "openssl verifies the token sub CA under the token root" \
    openssl verify -x509_strict -CAfile "$T/root.pem" "$T/sub.pem"
assert "openssl verifies a certificate of the token sub CA with CRLs" \
    openssl verify -x509_strict -crl_check_all -CAfile "$T/root.pem" \
    -untrusted "$T/sub.pem" -CRLfile "$T/root.crl" -CRLfile "$T/sub.crl" \
    "$T/leaf.pem"
run openssl verify -x509_strict -crl_check_all -CAfile "$T/root.pem" \
    -untrusted "$T/soft.pem" -CRLfile "$T/root.crl" -CRLfile "$T/soft.crl" \
    "$T/leaf2.pem"
like "the revoked certificate is revoked by the soft CA's CRL" \
    "$(cat "$T/out" "$T/err")" "certificate revoked"
assert "openssl reads the token root's CRL, signed with sha256WithRSA" \
    sh -c "openssl crl -in '$T/root.crl' -noout -text |
    grep -q 'Signature Algorithm: sha256WithRSAEncryption'"
assert "openssl checks the token root's CRL signature" \
    openssl crl -in "$T/root.crl" -noout -CAfile "$T/root.pem"
assert "openssl checks the token sub CA's CRL signature (ECDSA)" \
    openssl crl -in "$T/sub.crl" -noout -CAfile "$T/sub.pem"
openssl x509 -in "$T/sub.pem" -outform DER -out "$T/sub.der"
openssl crl -in "$T/sub.crl" -outform DER -out "$T/sub.crl.der"
assert "dumpasn1 finds the token-signed certificate strict DER" \
    dumpasn1 -z "$T/sub.der"
assert "dumpasn1 finds the token-signed CRL strict DER" \
    dumpasn1 -z "$T/sub.crl.der"

# --- the token absent -------------------------------------------------------

mv "$T/hsm/tokens" "$T/hsm/tokens.away"
mkdir "$T/hsm/tokens"
check_refused 10 'key "root-key": token "CA-HSM" is not present' \
    "token absent: a CRL is refused (exit 10) naming the token" \
    cm crl issue --ca Root -o "$T/absent.crl"
assert "token absent: no CRL file was written" test ! -e "$T/absent.crl"
mkcsr absent "/CN=absent.example.test"
check_refused 10 'token "CA-HSM" is not present' \
    "token absent: issuance is refused (exit 10)" \
    cm issue -p Server --csr "$T/absent.csr" --san DNS:absent.example.test \
    -o "$T/absent.pem"
check_refused 10 'key create: token "CA-HSM" is not present' \
    "token absent: key create is refused (exit 10)" \
    cm key create -n k-absent -t ec:p256 --device pkcs11:token=CA-HSM
check "token absent: the soft CA still issues its CRL" \
    cm crl issue --ca Soft -o "$T/soft2.crl"
rmdir "$T/hsm/tokens"
mv "$T/hsm/tokens.away" "$T/hsm/tokens"

# --- PINs ---------------------------------------------------------------------

printf '0000\n' >"$T/CA-HSM.pin"
check_refused 9 'token "CA-HSM": wrong PIN' \
    "a wrong token PIN is refused (exit 9)" cm crl issue --ca Root
hsm_conf
printf '4711\n' >"$T/tpin"
check "without a PIN file in cm.conf, --token-pin-file gives the PIN" \
    "$CMCTL" --pin-file "$PIN" --token-pin-file "$T/tpin" crl issue --ca Sub
run sh -c "'$CMCTL' --pin-file '$PIN' crl issue --ca Sub </dev/null"
if [ -e /dev/tty ] && (: </dev/tty) 2>/dev/null; then
	skip "without any PIN file and no terminal the PIN is refused" \
	    "this run has a terminal"
else
	like "without any PIN file and no terminal the PIN is refused" \
	    "$(cat "$T/err")" 'PIN of token CA-HSM: no --pin-file given and no terminal'
fi
chmod 644 "$T/CA-HSM.pin"
printf '4711\n' >"$T/CA-HSM.pin"
hsm_conf CA-HSM
chmod 644 "$T/CA-HSM.pin"
check_fail 9 'must not be readable by group or others' \
    "a PIN file readable by others is refused" cm crl issue --ca Sub
chmod 600 "$T/CA-HSM.pin"
check_refused 3 'a PIN is never written in a PKCS#11 URI' \
    "a PIN in the URI is refused" \
    cm key create -n k-pin -t ec:p256 --device 'pkcs11:token=CA-HSM;pin-value=4711'
check_refused 3 'ed25519 keys are made in the soft key store only' \
    "ed25519 on a token is refused" \
    cm key create -n k-ed -t ed25519 --device pkcs11:token=CA-HSM
check_refused 3 'an attribute is given twice' "a URI naming the token twice" \
    cm key create -n k-twice -t ec:p256 --device 'pkcs11:token=CA-HSM;token=X'
check_refused 3 'not a PKCS#11 URI' "a bad URI is refused" \
    cm key create -n k-bad -t ec:p256 --device 'pkcs11:token%zz'
check_refused 10 'token "Nowhere" is not present' \
    "an unknown token is refused (exit 10)" \
    cm key create -n k-nowhere -t ec:p256 --device pkcs11:token=Nowhere

# --- a failed change leaves nothing on the token ----------------------------

sqlite3 "$CM_DB" "CREATE TRIGGER fault BEFORE INSERT ON keys BEGIN
    SELECT RAISE(ABORT, 'injected fault'); END;"
run cm key create -n k-fault -t ec:p256 --device pkcs11:token=CA-HSM
isnt "key create fails when the CMDB refuses the key" "$RC" 0
sqlite3 "$CM_DB" "DROP TRIGGER fault;"
run p11 --token-label CA-HSM --login --pin 4711 --list-objects
unlike "the key made for the failed change was destroyed on the token" \
    "$(cat "$T/out")" 'k-fault'
is "the Key Registry has no k-fault" \
    "$(sqlv "$CM_DB" "SELECT count(*) FROM keys WHERE name = 'k-fault'")" 0

# --- two tokens, two modules ------------------------------------------------

hsm_token CA-HSM 1234
second=$HSM_SERIAL
check_refused 10 '2 tokens match: name it by its serial number' \
    "two tokens with one label are refused" \
    cm key create -n k-two -t ec:p256 --device pkcs11:token=CA-HSM
printf '1234\n' >"$T/CA-HSM.pin"
check "the second token, named by label and serial" \
    cm key create -n k-second -t ec:p256 \
    --device "pkcs11:token=CA-HSM;serial=$second"
printf '4711\n' >"$T/CA-HSM.pin"
check "the first token's keys still sign: they are found by id" \
    cm crl issue --ca Root -o "$T/root2.crl"

if [ -f /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so ]; then
	{
		printf 'pkcs11.1 = %s\n' /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so
		printf 'pkcs11.2 = %s\n' "$P11MOD"
		printf 'token.CA-HSM.pin-file = %s\n' "$T/CA-HSM.pin"
	} >"$T/cm.conf"
	check "with two modules configured the token is found in the second" \
	    cm crl issue --ca Sub -o "$T/sub2.crl"
else
	skip "two modules configured" "opensc-pkcs11.so is not installed"
fi
printf 'pkcs11.1 = %s\n' "$T/no-such-module.so" >"$T/cm.conf"
check_fail 10 'PKCS#11 module .*no-such-module.so' \
    "a module that cannot be loaded is named" cm crl issue --ca Sub
hsm_conf CA-HSM
check "audit verify: every change and refusal is in the hash chain" \
    cm audit verify
done_testing
