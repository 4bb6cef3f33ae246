#!/bin/sh
# t-tokens.sh: subjects, token procedures and tokens: PKCS#12 soft tokens
# read back with openssl, PIN letters, PKCS#10 and smart card storage,
# token revocation, and refused requests.
# shellcheck source=tests/regress/lib.sh
. "$(dirname "$0")/lib.sh"

plan 129

pki_basic
mkproc 'TLS client' Sub client
mkproc Mail Sub email
mkproc EcOnly Sub client --allow-keys ec:p256
export_ca Root "$T/root.pem"
export_ca Sub "$T/sub.pem"

ALICE_DN='C=SE,O=Example,CN=Alice Example'
BOB_DN='C=SE,O=Example,CN=Bob Device'
ISO='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z'
FP_SUB=$(fingerprint "$T/sub.pem")
FP_ROOT=$(fingerprint "$T/root.pem")

# san_of CERT: the subjectAltName as openssl prints it, on one line.
san_of() {
	openssl x509 -in "$1" -noout -ext subjectAltName 2>/dev/null |
	    sed -n '2,$p' |
	    sed 's/^ *//' | tr '\n' ' ' | sed 's/ *$//'
}

# subject_of CERT: the subject in RFC 2253 form (most specific first).
subject_of() {
	openssl x509 -in "$1" -noout -subject -nameopt RFC2253 2>/dev/null |
	    sed 's/^subject=//'
}

# value KEY [FILE]: the values of the "KEY: value" lines of FILE (default
# the last command's output), one a line.
value() {
	sed -n "s/^$1: *//p" "${2:-$T/out}"
}

# fields KEY...: the "KEY: value" lines of the last command's output for
# those keys, in the order printed, joined by '|'.
fields() {
	_fk=$(printf '%s|' "$@" | sed 's/|$//')
	grep -E "^($_fk):" "$T/out" | sed 's/: */: /' | tr '\n' '|' |
	    sed 's/|$//'
}

# serials_of FILE: the serials of the "Certificate: SERIAL" lines of FILE,
# normalized and sorted, on one line.
serials_of() {
	value Certificate "$1" | while read -r _s _rest; do
		normserial "$_s"
	done | sort | tr '\n' ' ' | sed 's/ $//'
}

# serials_in FILE...: the serials of the PEM certificates, normalized and
# sorted, on one line.
serials_in() {
	for _f in "$@"; do
		cert_serial "$_f"
	done | sort | tr '\n' ' ' | sed 's/ $//'
}

# p12_open P12 PASS PREFIX: the certificates and the private keys of a
# PKCS#12 file as PREFIX.cert.N.pem and PREFIX.key.N.pem.  Beside each,
# N.id holds its localKeyID (bare hex, empty when it has none) and N.pub its
# public key (PEM); beside each certificate, N.fp holds its SHA-256
# fingerprint.  Fails when openssl cannot read the file with PASS.
p12_open() {
	rm -f "$3".cert.* "$3".key.*
	if ! openssl pkcs12 -in "$1" -passin "pass:$2" -nokeys \
	    -out "$3.certs" >"$3.log" 2>&1 ||
	    ! openssl pkcs12 -in "$1" -passin "pass:$2" -nocerts -nodes \
	    -out "$3.keys" >>"$3.log" 2>&1; then
		diag_file "$3.log"
		: >"$3.certs"
		: >"$3.keys"
		return 1
	fi
	_p12_split "$3.certs" "$3.cert"
	_p12_split "$3.keys" "$3.key"
	for _c in "$3".cert.*.pem; do
		[ -f "$_c" ] || continue
		openssl x509 -in "$_c" -noout -fingerprint -sha256 -pubkey \
		    >"${_c%.pem}.x" 2>&1
		sed -n 's/^[^=]*Fingerprint=//p' "${_c%.pem}.x" >"${_c%.pem}.fp"
		sed -n '/^-----BEGIN/,/^-----END/p' "${_c%.pem}.x" >"${_c%.pem}.pub"
	done
	for _k in "$3".key.*.pem; do
		[ -f "$_k" ] || continue
		openssl pkey -in "$_k" -pubout >"${_k%.pem}.pub" 2>&1
	done
	return 0
}

_p12_split() {
	awk -v p="$2" '
		/localKeyID:/ {
			id = $0; sub(/.*localKeyID: */, "", id)
			gsub(/[ :]/, "", id)
		}
		/^-----BEGIN / {
			n++; f = p "." n ".pem"
			print id > (p "." n ".id"); close(p "." n ".id")
			id = ""; inb = 1
		}
		inb { print > f }
		/^-----END / { inb = 0; close(f) }
	' "$1"
}

# p12_kinds PREFIX: each certificate as "sub", "root" or "leaf", sorted.
p12_kinds() {
	for _c in "$1".cert.*.pem; do
		[ -f "$_c" ] || continue
		case $(cat "${_c%.pem}.fp") in
		"$FP_SUB")	echo sub ;;
		"$FP_ROOT")	echo root ;;
		*)		echo leaf ;;
		esac
	done | sort | tr '\n' ' ' | sed 's/ $//'
}

# p12_leaves PREFIX: the files of the certificates that are not Sub or Root.
p12_leaves() {
	for _c in "$1".cert.*.pem; do
		[ -f "$_c" ] || continue
		_fp=$(cat "${_c%.pem}.fp")
		[ "$_fp" = "$FP_SUB" ] || [ "$_fp" = "$FP_ROOT" ] || echo "$_c"
	done
}

# p12_nkeys PREFIX: how many private keys.
p12_nkeys() {
	grep -c -- '^-----BEGIN .*PRIVATE KEY-----' "$1.keys"
}

# cert_of_key PREFIX KEY: the leaf certificates with the public key of KEY.
cert_of_key() {
	for _c in $(p12_leaves "$1"); do
		if cmp -s "${_c%.pem}.pub" "${2%.pem}.pub"; then
			echo "$_c"
		fi
	done
}

# keys_match PREFIX: every private key has the public key of exactly one
# leaf certificate, and no two keys that of the same one.
keys_match() {
	_r=0
	_seen=
	for _k in "$1".key.*.pem; do
		[ -f "$_k" ] || { echo "no keys"; return 1; }
		grep -q -- '-----BEGIN PUBLIC KEY-----' "${_k%.pem}.pub" || {
			echo "$_k: no public key"
			_r=1
			continue
		}
		_m=$(cert_of_key "$1" "$_k")
		_n=$(printf '%s' "$_m" | grep -c .)
		if [ "$_n" -ne 1 ]; then
			echo "$_k matches $_n certificates"
			_r=1
			continue
		fi
		case " $_seen " in
		*" $_m "*)	echo "$_m matches two keys"; _r=1 ;;
		esac
		_seen="$_seen $_m"
	done
	return $_r
}

# keyids_match PREFIX: every private key has a localKeyID, and it is the
# localKeyID of the leaf certificate with its public key.
keyids_match() {
	_r=0
	for _k in "$1".key.*.pem; do
		[ -f "$_k" ] || { echo "no keys"; return 1; }
		_kid=$(cat "${_k%.pem}.id")
		[ -n "$_kid" ] || { echo "$_k has no localKeyID"; _r=1; continue; }
		_m=$(cert_of_key "$1" "$_k")
		[ -n "$_m" ] || { echo "$_k: no certificate"; _r=1; continue; }
		for _c in $_m; do
			[ "$(cat "${_c%.pem}.id")" = "$_kid" ] && continue
			echo "$_k: localKeyID $_kid, $_c: $(cat "${_c%.pem}.id")"
			_r=1
		done
	done
	return $_r
}

# leaves_verify PREFIX: openssl verify -x509_strict accepts every leaf
# under Root with Sub as the intermediate.
leaves_verify() {
	_r=0
	_n=0
	for _c in $(p12_leaves "$1"); do
		_n=$((_n + 1))
		openssl verify -x509_strict -CAfile "$T/root.pem" \
		    -untrusted "$T/sub.pem" "$_c" || _r=1
	done
	[ $_n -gt 0 ] || { echo "no leaf certificates"; return 1; }
	return $_r
}

# leaf_with_eku PREFIX TEXT: the leaf whose extendedKeyUsage has TEXT.
leaf_with_eku() {
	for _c in $(p12_leaves "$1"); do
		if openssl x509 -in "$_c" -noout -ext extendedKeyUsage 2>/dev/null |
		    grep -q -- "$2"; then
			echo "$_c"
		fi
	done
}

# bag_encryption INFO: "BAGS UNENCRYPTED": how many certificate bags the
# output of openssl pkcs12 -info lists, and how many of them are outside
# an encrypted data block of PBES2, PBKDF2 and AES-256-CBC.
bag_encryption() {
	awk '
		/^PKCS7 Encrypted data:/ {
			enc = ($0 ~ /PBES2, PBKDF2, AES-256-CBC/); next
		}
		/^PKCS7 Data/ { enc = 0; next }
		/^Certificate bag/ { n++; if (!enc) bad++ }
		END { print n + 0, bad + 0 }
	' "$1"
}

# token_issue DESC TOKEN-PROCEDURE SUBJECT FILE [options]: check a token
# issue; its standard output in FILE.stdout, the token ID in $TOKEN and the
# PIN in $TPIN (empty when none was printed).
token_issue() {
	_ti_d=$1
	_ti_p=$2
	_ti_s=$3
	_ti_o=$4
	shift 4
	check "$_ti_d" cm token issue -P "$_ti_p" --subject "$_ti_s" \
	    -o "$_ti_o" "$@"
	cp "$T/out" "$_ti_o.stdout"
	TOKEN=$(value Token)
	TPIN=$(value PIN)
}

# --- subjects ------------------------------------------------------------------

check "subject register with --email" \
    cm subject register -s "$ALICE_DN" --email alice@example.test
ALICE=$(tr -d ' \r\n' <"$T/out")
like "subject register prints the numeric ID" "$ALICE" '^[0-9]+$'
check "subject register with --san, the DN written with spaces" \
    cm subject register -s ' C=SE, O=Example, CN=Bob Device' \
    --san DNS:bob.example.test,IP:10.0.0.7
BOB=$(tr -d ' \r\n' <"$T/out")
isnt "the second subject has another ID" "$BOB" "$ALICE"

run cm subject list
is "subject list: ID, DN and email, the DN as cmctl prints DNs" \
    "$(line_for "$ALICE" "$T/out" | tr '\t' '|') $(line_for "$BOB" "$T/out" | tr '\t' '|')" \
    "$ALICE|$ALICE_DN|alice@example.test $BOB|$BOB_DN|"

check "subject show ID" cm subject show "$ALICE"
is "subject show: ID, DN, email" "$(fields ID DN Email)" \
    "ID: $ALICE|DN: $ALICE_DN|Email: alice@example.test"
like "subject show: the creation time in ISO 8601" "$(value Created)" "^$ISO\$"
cp "$T/out" "$T/alice.show"
run cm subject show "$ALICE_DN"
assert "subject show DN shows the same subject" cmp "$T/out" "$T/alice.show"
run cm subject show "$BOB"
assert "subject show: the SAN of the subject" \
    sh -c 'grep -E "^SAN: .*DNS:bob\.example\.test" "$1" &&
	grep -E "^SAN: .*10\.0\.0\.7" "$1"' sh "$T/out"

check_refused 6 'Alice Example' \
    "the same DN, written another way, again: exit 6" \
    cm subject register -s 'C=SE, O=Example, CN=Alice Example'
check_refused 3 'O=Example,CN' "subject register with a malformed DN: exit 3" \
    cm subject register -s 'C=SE,O=Example,CN'
check_refused 3 'e-?mail|@' "--email without @: exit 3" \
    cm subject register -s 'C=SE,O=Example,CN=Carol' --email carol.example.test
check_refused 3 'FOO' "--san with an unknown name type: exit 3" \
    cm subject register -s 'C=SE,O=Example,CN=Carol' --san FOO:bar
check_refused 5 '999999' "subject show of an unknown ID: exit 5" \
    cm subject show 999999
check_refused 5 'Nobody' "subject show of an unknown DN: exit 5" \
    cm subject show 'C=SE,O=Example,CN=Nobody'

# --- token procedures --------------------------------------------------------------

check "token-procedure create: pkcs12, two certificate procedures, chain" \
    cm token-procedure create -n Soft --storage pkcs12 --issuer-certs chain \
    --cert-procedure 'TLS client' --cert-procedure Mail --key-type ec:p256
check "token-procedure show" cm token-procedure show Soft
is "token-procedure show: every setting, the certificate procedures in order" \
    "$(fields Name Storage 'Card serial' 'Serial range' 'PIN procedure' \
    'Issuer certificates' 'Key type' 'Certificate procedure')" \
    "Name: Soft|Storage: pkcs12|Card serial: no|Serial range: none|PIN procedure: show|Issuer certificates: chain|Key type: ec:p256|Certificate procedure: TLS client|Certificate procedure: Mail"
run cm token-procedure list
is "token-procedure list: name, storage, certificate procedures" \
    "$(line_for Soft "$T/out" | tr '\t' '|')" "Soft|pkcs12|TLS client,Mail"
run cm audit list
is "token-procedure create is audited as token-procedure.create" \
    "$(awk -F '\t' '$4 == "token-procedure.create" && $5 == "Soft" &&
    $6 == "ok"' "$T/out" | wc -l | tr -d ' ')" 1

must cm token-procedure create -n Defaults --storage pkcs10 \
    --cert-procedure 'TLS client'
run cm token-procedure show Defaults
is "defaults: no card serial, no serial range, PIN shown, no issuer certificates, rsa:2048" \
    "$(fields 'Card serial' 'Serial range' 'PIN procedure' \
    'Issuer certificates' 'Key type')" \
    "Card serial: no|Serial range: none|PIN procedure: show|Issuer certificates: none|Key type: rsa:2048"
must cm token-procedure create -n Card --storage smartcard \
    --serial-range optional --cert-procedure 'TLS client'
run cm token-procedure show Card
is "smartcard: a card serial by default; --serial-range optional" \
    "$(fields Storage 'Card serial' 'Serial range')" \
    "Storage: smartcard|Card serial: yes|Serial range: optional"

check_refused 5 'NoSuchProcedure' \
    "token-procedure create with an unknown certificate procedure: exit 5" \
    cm token-procedure create -n Orphan --storage pkcs12 \
    --cert-procedure NoSuchProcedure
check_refused 4 'EcOnly.*(rsa|RSA).?2048|(rsa|RSA).?2048.*EcOnly' \
    "a key type the certificate procedure does not allow: exit 4, both named" \
    cm token-procedure create -n RsaOnEc --storage pkcs12 \
    --cert-procedure EcOnly --key-type rsa:2048
check_refused 3 'floppy' "an unknown storage: exit 3" \
    cm token-procedure create -n Floppy --storage floppy \
    --cert-procedure 'TLS client'
check_refused 3 'sms' "an unknown --pin-procedure: exit 3" \
    cm token-procedure create -n Sms --storage pkcs12 --pin-procedure sms \
    --cert-procedure 'TLS client'
check_refused 3 'full' "--issuer-certs full (a --chain value) is not one: exit 3" \
    cm token-procedure create -n Full --storage pkcs12 --issuer-certs full \
    --cert-procedure 'TLS client'
check_refused 3 'rsa:1024' "an unknown --key-type: exit 3" \
    cm token-procedure create -n Small --storage pkcs12 --key-type rsa:1024 \
    --cert-procedure 'TLS client'
check_refused 6 'Soft' "a token procedure name that is taken: exit 6" \
    cm token-procedure create -n Soft --storage pkcs12 \
    --cert-procedure 'TLS client'
check_refused 2 'cert-procedure' "no --cert-procedure: usage error, exit 2" \
    cm token-procedure create -n Empty --storage pkcs12

# --- a PKCS#12 token: two keys, two certificates, the chain ---------------------------

token_issue "token issue: a PKCS#12 token" Soft "$ALICE" "$T/t.p12"
SOFT=$TOKEN
SOFT_SERIALS=$(serials_of "$T/t.p12.stdout")
like "stdout: one PIN line, 12 characters of [A-Za-z0-9]" \
    "$(grep -c '^PIN: ' "$T/t.p12.stdout") $TPIN" '^1 [A-Za-z0-9]{12}$'
unlike "the PIN has no look-alike characters (0 O 1 l I)" "$TPIN" '[0O1lI]'
like "stdout: the token ID and two certificate serials" \
    "$SOFT $(value Certificate "$T/t.p12.stdout" | wc -l | tr -d ' ')" \
    '^[0-9]+ 2$'

check "openssl pkcs12 -info reads it with the PIN" \
    openssl pkcs12 -in "$T/t.p12" -passin "pass:$TPIN" -info -noout
cat "$T/out" "$T/err" >"$T/t.info"
run openssl pkcs12 -in "$T/t.p12" -passin pass:WrongPin2345 -info -noout
like "a wrong PIN fails the MAC check" "$RC $(tr '\n' ' ' <"$T/err")" \
    '^[1-9][0-9]* .*(Mac verify error|invalid password)'
is "the two keys are shrouded with PBES2, PBKDF2 and AES-256-CBC" \
    "$(grep -c '^Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC' "$T/t.info") $(grep -c '^Key bag' "$T/t.info")" \
    "2 0"
is "the four certificates are encrypted with PBES2, PBKDF2 and AES-256-CBC" \
    "$(bag_encryption "$T/t.info")" "4 0"
assert "the MAC is HMAC-SHA-256" grep -q '^MAC: sha256' "$T/t.info"

p12_open "$T/t.p12" "$TPIN" "$T/t"
is "-nokeys: 2 end-entity certificates, the sub CA and the root" \
    "$(p12_kinds "$T/t")" "leaf leaf root sub"
# shellcheck disable=SC2046
is "the end-entity certificates have the serials token issue printed" \
    "$(serials_in $(p12_leaves "$T/t"))" "$SOFT_SERIALS"
is "-nocerts -nodes: 2 private keys" "$(p12_nkeys "$T/t")" 2
assert "each private key has the public key of one certificate" \
    keys_match "$T/t"
assert "each key has the localKeyID of its certificate" keyids_match "$T/t"
assert "openssl verify -x509_strict: both certificates chain to Root via Sub" \
    leaves_verify "$T/t"
CLIENT=$(leaf_with_eku "$T/t" 'TLS Web Client Authentication')
MAIL=$(leaf_with_eku "$T/t" 'E-mail Protection')
like "one certificate for TLS client, one for Mail" \
    "$(basename "${CLIENT:-none}") $(basename "${MAIL:-none}")" \
    '^t\.cert\.[0-9]+\.pem t\.cert\.[0-9]+\.pem$'
is "both have the subject's DN as subject" \
    "$(subject_of "${CLIENT:-/dev/null}")|$(subject_of "${MAIL:-/dev/null}")" \
    "CN=Alice Example,O=Example,C=SE|CN=Alice Example,O=Example,C=SE"
is "the Mail certificate has the rfc822Name alice@example.test" \
    "$(san_of "${MAIL:-/dev/null}")" "email:alice@example.test"
is "the TLS client certificate has it too" \
    "$(san_of "${CLIENT:-/dev/null}")" "email:alice@example.test"
like "the keys are of the key type ec:p256" \
    "$(for k in "$T"/t.key.*.pem; do openssl pkey -in "$k" -noout -text |
    sed -n 's/^NIST CURVE: //p'; done | tr '\n' ' ')" '^P-256 P-256 $'

# --- the PIN is never stored ------------------------------------------------------------

refute "the PIN is not in the CMDB (cm.db, its WAL)" \
    grep -a -F -- "$TPIN" "$T"/cm.db*
run cm audit list
refute "the PIN is not in the audit log" grep -F -- "$TPIN" "$T/out"

# --- token list, token show, subject show, cert list --------------------------------------

run cm token list
is "token list: ID, token procedure, subject, storage, state" \
    "$(line_for "$SOFT" "$T/out" | tr '\t' '|')" \
    "$SOFT|Soft|$ALICE_DN|pkcs12|active"
check "token show" cm token show "$SOFT"
is "token show: token, procedure, subject, storage, state" \
    "$(fields Token Procedure Subject Storage State)" \
    "Token: $SOFT|Procedure: Soft|Subject: $ALICE_DN|Storage: pkcs12|State: active"
like "token show: the creation time in ISO 8601" "$(value Created)" "^$ISO\$"
is "token show: both certificates, valid" \
    "$(serials_of "$T/out") $(value Certificate | awk '{ print $2 }' | tr '\n' ' ')" \
    "$SOFT_SERIALS valid valid "
run cm subject show "$ALICE"
is "subject show lists the token" "$(value Token)" "$SOFT"
run cm cert list --subject "$ALICE_DN"
is "cert list: the 2 certificates of the subject, valid" \
    "$(field 1 "$T/out" | while read -r s; do normserial "$s"; done |
    sort | tr '\n' ' ' | sed 's/ $//') $(field 3 "$T/out" | sort -u)" \
    "$SOFT_SERIALS valid"

# --- token revoke ------------------------------------------------------------------------------

check_refused 3 'noSuchReason' "token revoke with an unknown reason: exit 3" \
    cm token revoke "$SOFT" -r noSuchReason
check "token revoke" cm token revoke "$SOFT" -r keyCompromise
is "cert show: both certificates revoked, keyCompromise" \
    "$(for s in $SOFT_SERIALS; do run cm cert show "$s"
    printf '%s,%s ' "$(value Status)" "$(value Reason)"; done)" \
    "revoked,keyCompromise revoked,keyCompromise "
run cm token show "$SOFT"
is "token show: revoked, and so are its certificates" \
    "$(value State) $(value Certificate | awk '{ print $2 }' | tr '\n' ' ')" \
    "revoked revoked revoked "
run cm token list
is "token list: revoked" "$(line_for "$SOFT" "$T/out" | field 5)" revoked
must cm crl issue --ca Sub -o "$T/sub.crl"
is "a new CRL of Sub lists both, with reason keyCompromise" \
    "$(crl_entries "$T/sub.crl" | awk -F '\t' -v want=" $SOFT_SERIALS " \
    'index(want, " " $1 " ") { print $1 "/" $2 }' | sort | tr '\n' ' ')" \
    "$(for s in $SOFT_SERIALS; do printf '%s/Key Compromise ' "$s"; done)"
check_refused 4 'revoked' "token revoke of a revoked token: exit 4" \
    cm token revoke "$SOFT" -r superseded
check_refused 5 '999999' "token revoke of an unknown token: exit 5" \
    cm token revoke 999999 -r superseded
check_refused 5 '999999' "token show of an unknown token: exit 5" \
    cm token show 999999

# --- issuer certificates: none, ca --------------------------------------------------------------

must cm token-procedure create -n SoftNone --storage pkcs12 \
    --issuer-certs none --cert-procedure 'TLS client' --cert-procedure Mail \
    --key-type ec:p256
token_issue "token issue with --issuer-certs none" SoftNone "$ALICE" \
    "$T/none.p12"
p12_open "$T/none.p12" "$TPIN" "$T/none"
is "--issuer-certs none: the 2 end-entity certificates only" \
    "$(p12_kinds "$T/none")" "leaf leaf"
must cm token-procedure create -n SoftCa --storage pkcs12 --issuer-certs ca \
    --cert-procedure Mail --cert-procedure 'TLS client' --key-type ec:p256
token_issue "token issue with --issuer-certs ca" SoftCa "$ALICE_DN" \
    "$T/ca.p12"
p12_open "$T/ca.p12" "$TPIN" "$T/ca"
is "--issuer-certs ca: the 2 end-entity certificates and the sub CA" \
    "$(p12_kinds "$T/ca")" "leaf leaf sub"
run cm token list --subject "$ALICE"
is "token list --subject: the 3 tokens of the subject" \
    "$(field 2 "$T/out" | sort | tr '\n' ' ')" "Soft SoftCa SoftNone "

# --- PIN letter --------------------------------------------------------------------------------------

must cm token-procedure create -n Letter --storage pkcs12 \
    --pin-procedure letter --cert-procedure 'TLS client' --key-type ec:p256
# A umask that would leave the letter readable by others.
umask 022
token_issue "token issue with --pin-letter" Letter "$ALICE" \
    "$T/letter.p12" --pin-letter "$T/letter.txt"
umask 077
is "stdout has no PIN line, but the token ID" \
    "$TPIN $(value Token "$T/letter.p12.stdout" | grep -c .)" " 1"
is "the PIN letter has mode 600" "$(stat -c %a "$T/letter.txt" 2>&1)" 600
LPIN=$(value PIN "$T/letter.txt")
is "the PIN letter: token ID, the subject's DN, a PIN" \
    "$(value Token "$T/letter.txt")|$(value Subject "$T/letter.txt")|$(printf '%s' "$LPIN" | grep -Ec '^[A-Za-z0-9]{12}$')" \
    "$TOKEN|$ALICE_DN|1"
check "the PIN of the letter opens the PKCS#12" \
    openssl pkcs12 -in "$T/letter.p12" -passin "pass:$LPIN" -info -noout
check_refused 2 'pin-letter' "pin-procedure letter without --pin-letter: exit 2" \
    cm token issue -P Letter --subject "$ALICE" -o "$T/noletter.p12"
refute "and nothing is written" test -e "$T/noletter.p12"
cp "$T/letter.txt" "$T/letter.orig"
check_refused 6 'letter\.txt' "a PIN letter is never written over a file: exit 6" \
    cm token issue -P Letter --subject "$ALICE" -o "$T/again.p12" \
    --pin-letter "$T/letter.txt"
assert "the old letter is left as it was, and no PKCS#12 written" \
    sh -c 'cmp "$1" "$2" && ! test -e "$3"' sh "$T/letter.txt" \
    "$T/letter.orig" "$T/again.p12"

# --- all certificates of a token or none -------------------------------------------------------

# Bob has no email address, so Mail refuses him after TLS client accepted.
check_refused 4 'rfc822Name|e-?mail' \
    "a token whose second certificate is refused: exit 4" \
    cm token issue -P Soft --subject "$BOB" -o "$T/bob.p12"
refute "and no PKCS#12 is written" test -e "$T/bob.p12"

# --- PKCS#10 storage -------------------------------------------------------------------------------

must cm token-procedure create -n P10 --storage pkcs10 --issuer-certs ca \
    --cert-procedure 'TLS client' --key-type ec:p256
mkcsr bobreq '/C=US/O=Elsewhere/CN=Not Bob'
token_issue "token issue: PKCS#10 storage" P10 "$BOB_DN" "$T/bob.pem" \
    --csr "$T/bobreq.csr"
P10TOKEN=$TOKEN
is "no PIN; the token ID and one certificate serial" \
    "$TPIN|$(value Certificate "$T/bob.pem.stdout" | wc -l | tr -d ' ')" "|1"
pem_split "$T/bob.pem" "$T/bob"
is "-o: the PEM certificate, then the sub CA" \
    "$(pem_count "$T/bob.pem") $(fingerprint "$T/bob.2.pem" 2>&1)" \
    "2 $FP_SUB"
is "the certificate has the subject's DN, not the request's" \
    "$(subject_of "$T/bob.1.pem")" "CN=Bob Device,O=Example,C=SE"
is "the certificate is for the request's key" \
    "$(openssl x509 -in "$T/bob.1.pem" -noout -pubkey 2>&1)" \
    "$(openssl pkey -in "$T/bobreq.key" -pubout)"
like "the certificate has the subject's SAN" "$(san_of "$T/bob.1.pem")" \
    '^(DNS:bob\.example\.test, IP Address:10\.0\.0\.7|IP Address:10\.0\.0\.7, DNS:bob\.example\.test)$'
is "its serial is the one printed" "$(cert_serial "$T/bob.1.pem")" \
    "$(serials_of "$T/bob.pem.stdout")"
check_refused 2 'csr' "PKCS#10 storage without --csr: exit 2" \
    cm token issue -P P10 --subject "$BOB" -o "$T/nocsr.pem"

# --- smart card storage ----------------------------------------------------------------------------------

check_refused 4 '--pkcs12-fallback' \
    "smart card storage: refused, pointing to the card station and --pkcs12-fallback" \
    cm token issue -P Card --subject "$BOB" -o "$T/card.p12"
refute "and nothing is written" test -e "$T/card.p12"
token_issue "--pkcs12-fallback issues the smart card token as PKCS#12" Card \
    "$BOB" "$T/card.p12" --pkcs12-fallback
CARD=$TOKEN
p12_open "$T/card.p12" "$TPIN" "$T/card"
is "the PKCS#12 opens with its PIN: one certificate and its key" \
    "$(p12_kinds "$T/card") $(p12_nkeys "$T/card")" "leaf 1"
like "the key is of the procedure's default key type, rsa:2048" \
    "$(openssl pkey -in "$T/card.key.1.pem" -noout -text 2>&1 | sed -n 1p)" \
    '^Private-Key: \(2048 bit'
run cm token list --subject "$BOB_DN"
is "token list --subject: the fallback token has storage pkcs12" \
    "$(line_for "$P10TOKEN" "$T/out" | field 4) $(line_for "$CARD" "$T/out" | cut -f 2,4 | tr '\t' '|') $(lines "$T/out")" \
    "pkcs10 Card|pkcs12 2"

# --- refused token issues -----------------------------------------------------------------------------------

check_refused 5 'NoSuchTokenProcedure' "an unknown token procedure: exit 5" \
    cm token issue -P NoSuchTokenProcedure --subject "$ALICE" -o "$T/x.p12"
check_refused 5 '999999' "an unknown subject ID: exit 5" \
    cm token issue -P Soft --subject 999999 -o "$T/x.p12"
check_refused 5 'Nobody' "an unknown subject DN: exit 5" \
    cm token issue -P Soft --subject 'C=SE,O=Example,CN=Nobody' -o "$T/x.p12"
refute "none of them wrote a file" test -e "$T/x.p12"

done_testing
