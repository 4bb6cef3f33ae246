#!/bin/sh
# t-keys.sh: the Key Registry and the soft key store.
# shellcheck source=tests/regress/lib.sh
. "$(dirname "$0")/lib.sh"

TAB=$(printf '\t')
# rsa:4096 is made here only, once: it is the slow one.
TYPES="rsa:2048 rsa:4096 ec:p256 ec:p384 ed25519"

plan 66

pki_init

# keyname TYPE: k-rsa2048, k-ecp256, ...
keyname() {
	echo "k-$1" | tr -d ':'
}

# --- create and list -------------------------------------------------------

for t in $TYPES; do
	check "key create -t $t" cm key create -n "$(keyname "$t")" -t "$t"
done

run cm key list
cp "$T/out" "$T/keys.list"
is "key list prints one line per key" "$(lines "$T/keys.list")" 5
for t in $TYPES; do
	n=$(keyname "$t")
	like "key list: $n has a 40-hex identifier, type $t, device soft, in use" \
	    "$(line_for "$n" "$T/keys.list")" \
	    "^$n${TAB}[0-9A-F]{40}${TAB}$t${TAB}soft${TAB}in use\$"
done

# --- the identifier is the key identifier of RFC 5280 4.2.1.2 (1) -----------

for t in $TYPES; do
	n=$(keyname "$t")
	must cm ca create -n "CA-$n" -k "$n" -s "O=opencm test,CN=Key test $t" \
	    --self-signed
	export_ca "CA-$n" "$T/ca-$n.pem"
	id=$(line_for "$n" "$T/keys.list" | field 2)
	is "$t: the identifier equals the subjectKeyIdentifier of its CA" \
	    "$id" "$(ski_of "$T/ca-$n.pem")"
	is "$t: the identifier is the SHA-1 of the public key bit string" \
	    "$id" "$(keyid_of "$T/ca-$n.pem")"
done

id=$(line_for k-ecp256 "$T/keys.list" | field 2)
run cm key show k-ecp256
is "key show prints the identifier" \
    "$(sed -n 's/^Identifier: *//p' "$T/out")" "$id"
is "key show prints the state" "$(sed -n 's/^State: *//p' "$T/out")" "in use"
check_fail 5 'no-such-key' "key show of an unknown key exits 5" \
    cm key show no-such-key

# --- refusals leave the CMDB as it was --------------------------------------

check_refused 6 'k-ecp256' "a duplicate key name is refused (exit 6)" \
    cm key create -n k-ecp256 -t ec:p384
check_refused 3 'rsa:1024' "an unknown key type is refused (exit 3)" \
    cm key create -n k-bad -t rsa:1024

printf 'wrong horse battery\n' >"$T/wrong.pin"
check_refused 9 'wrong passphrase' "a wrong passphrase is refused (exit 9)" \
    "$CMCTL" --pin-file "$T/wrong.pin" key create -n k-wrong -t ec:p256

# No --pin-file, no keystore.pin-file and no terminal to ask on.
nostdin() {
	"$@" </dev/null
}
check_refused 9 'passphrase' "no passphrase file and no terminal: exit 9" \
    nostdin timeout 60 setsid -w "$CMCTL" key create -n k-nopin -t ec:p256

# --- the passphrase stays secret --------------------------------------------

hexpass=$(printf '%s' "$PASSPHRASE" | od -An -tx1 | tr -d ' \n' |
    tr 'abcdef' 'ABCDEF')
refute "the passphrase is not in the CMDB files" \
    grep -a -F -e "$PASSPHRASE" -e 'wrong horse battery' -- "$T"/cm.db*
refute "the passphrase is not in any column of the CMDB (hex dump)" \
    sh -c 'sqlite3 -readonly "$1" .dump | tr a-f A-F | grep -F "$2"' sh \
    "$CM_DB" "$hexpass"
run cm audit list
refute "the passphrases are not in the audit log" \
    grep -F -e "$PASSPHRASE" -e 'wrong horse battery' "$T/out"

# --- soft keys are encrypted PKCS#8 under the passphrase --------------------

for t in $TYPES; do
	n=$(keyname "$t")
	sqlv "$CM_DB" "SELECT hex(private) FROM keys WHERE name = '$n'" |
	    xxd -r -p >"$T/p8-$n.der"
	assert "$t: the private key decrypts with the passphrase (openssl pkcs8)" \
	    openssl pkcs8 -inform DER -in "$T/p8-$n.der" -passin "file:$PIN" \
	    -out "$T/key-$n.pem"
	is "$t: the decrypted key matches the public key of its CA" \
	    "$(openssl pkey -in "$T/key-$n.pem" -pubout 2>&1)" \
	    "$(openssl x509 -in "$T/ca-$n.pem" -noout -pubkey)"
done

P8=$T/p8-k-ecp256.der
refute "the private key is not a plain PKCS#8" \
    openssl pkcs8 -inform DER -nocrypt -in "$P8"
refute "a wrong passphrase does not decrypt it" \
    openssl pkcs8 -inform DER -in "$P8" -passin pass:wrong-horse-battery
run openssl asn1parse -inform DER -in "$P8"
like "it is PBES2 with scrypt (N=16384, r=8, p=1) and AES-256-CBC" \
    "$(tr '\n' ' ' <"$T/out")" \
    ':PBES2 .*:(id-)?scrypt .*INTEGER +:4000 .*INTEGER +:08 .*INTEGER +:01 .*:aes-256-cbc'

# --- retire and remove -------------------------------------------------------

check "key retire" cm key retire k-rsa2048
run cm key list
is "key list shows the key as retired" \
    "$(line_for k-rsa2048 "$T/out" | field 5)" retired
run cm key list --state retired
is "key list --state retired lists only that key" \
    "$(field 1 "$T/out" | tr '\n' ' ')" "k-rsa2048 "
run cm key list --state in-use
is "key list --state in-use lists the others" \
    "$(field 1 "$T/out" | sort | tr '\n' ' ')" \
    "k-ecp256 k-ecp384 k-ed25519 k-rsa4096 "
check_refused 4 'k-rsa2048' "a new CA with a retired key is refused (exit 4)" \
    cm ca create -n CA-retired -k k-rsa2048 -s "CN=Retired key CA" \
    --self-signed

check_refused 4 'k-ecp256' "removing a key in use by an active CA is refused" \
    cm key remove k-ecp256

mkkey k-spare ec:p256
spare=$(sqlv "$CM_DB" "SELECT hex(private) FROM keys WHERE name = 'k-spare'")
tail=$(printf '%s' "$spare" | tail -c 64)
is "before key remove, its encrypted private key is in the CMDB file" \
    "$(files_with_bytes "$tail" "$T"/cm.db* | wc -l | tr -d ' ')" 1
check "key retire k-spare" cm key retire k-spare
check "key remove k-spare" cm key remove k-spare
run cm key list
is "key list shows it as removed" \
    "$(line_for k-spare "$T/out" | field 5)" removed
run cm key list --state removed
is "key list --state removed lists it" "$(field 1 "$T/out")" k-spare
is "its private key column is NULL" \
    "$(sqlv "$CM_DB" "SELECT private IS NULL FROM keys WHERE name = 'k-spare'")" 1
is "its identifier is kept" \
    "$(sqlv "$CM_DB" "SELECT count(*) FROM keys WHERE name = 'k-spare' AND identifier <> ''")" 1
if files_with_bytes "$tail" "$T"/cm.db* >"$T/found"; then
	is "the encrypted private key is gone from the CMDB files" \
	    "$(cat "$T/found")" ""
else
	fail "the encrypted private key is gone from the CMDB files"
	diag "cannot search the CMDB files"
fi
check_refused 4 'k-spare' "a removed key cannot be retired again (exit 4)" \
    cm key retire k-spare

done_testing
