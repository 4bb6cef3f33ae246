#!/bin/sh
# t-pki-interop.sh: a two-tier PKI for each CA key type, checked with
# independent tools: openssl verify -x509_strict -crl_check_all, openssl crl
# -verify and dumpasn1.
# shellcheck source=tests/regress/lib.sh
. "$(dirname "$0")/lib.sh"

ALGS="ec:p256 ec:p384 rsa:3072 ed25519"
PER_ALG=23

plan $((4 * PER_ALG))

pki_init

# ca_cert_ok CERT: a critical basicConstraints with cA, and keyCertSign.
ca_cert_ok() {
	_x=$(openssl x509 -in "$1" -noout -ext basicConstraints,keyUsage)
	printf '%s\n' "$_x"
	printf '%s\n' "$_x" | grep -q 'X509v3 Basic Constraints: critical' &&
	    printf '%s\n' "$_x" | grep -q 'CA:TRUE' &&
	    printf '%s\n' "$_x" | grep -q 'Certificate Sign'
}

ca_certs_ok() {
	for _c in "$@"; do
		echo "$_c:"
		ca_cert_ok "$_c" || return 1
	done
}

# crl_ok CRL CACERT NUMBER: a v2 CRL with a cRLNumber of NUMBER and an
# authorityKeyIdentifier equal to the CA's subjectKeyIdentifier.
crl_ok() {
	_r=0
	crl_text "$1" | grep -q 'Version 2 (0x1)' || {
		echo "not version 2"
		_r=1
	}
	_num=$(crl_number_of "$1")
	[ "$_num" = "$3" ] || {
		echo "cRLNumber '$_num', cmctl printed '$3'"
		_r=1
	}
	_aki=$(crl_aki_of "$1")
	_ski=$(ski_of "$2")
	[ -n "$_aki" ] && [ "$_aki" = "$_ski" ] || {
		echo "authorityKeyIdentifier '$_aki', CA key id '$_ski'"
		_r=1
	}
	return $_r
}

# crl_verify CRL CACERT: openssl crl -verify accepts the signature.
crl_verify() {
	openssl crl -in "$1" -noout -verify -CAfile "$2" 2>&1 |
	    tee "$T/crlverify.out"
	grep -qx 'verify OK' "$T/crlverify.out"
}

# dumpasn1_ok DER...: dumpasn1 reports no error in any of them.  With -e:
# dumpasn1 otherwise tries to decode the random bytes of signatures and key
# identifiers as encapsulated DER, and now and then reports a "string" in
# them (an ed25519 signature did); extensions are parsed by openssl x509
# -text and the lint.
dumpasn1_ok() {
	_r=0
	for _f in "$@"; do
		if ! dumpasn1 -z -e "$_f" >"$_f.asn1" 2>&1; then
			echo "$_f:"
			grep -i -E 'error|warning' "$_f.asn1" | head -5
			_r=1
		fi
	done
	return $_r
}

# serials_ok CERT...: each serial is 16 octets and positive.
serials_ok() {
	_r=0
	for _f in "$@"; do
		_s=$(openssl x509 -in "$_f" -noout -serial)
		if ! printf '%s\n' "$_s" |
		    grep -Eqx 'serial=(0[1-9A-F]|[1-7][0-9A-F])[0-9A-F]{30}'; then
			echo "$_f: $_s"
			_r=1
		fi
	done
	return $_r
}

# verify_revoked: the last command failed with "certificate revoked".
verify_revoked() {
	cat "$T/out" "$T/err"
	[ "$RC" -ne 0 ] && grep -q 'certificate revoked' "$T/out" "$T/err"
}

for alg in $ALGS; do
	a=$(echo "$alg" | tr -d ':')
	D=$T/$a
	mkdir -p "$D"

	mkroot "Root-$a" "$alg" --pathlen 1
	mksub "Sub-$a" "Root-$a" "$alg" --pathlen 0 \
	    --cdp http://127.0.0.1/x.crl --aia http://127.0.0.1/x.crt
	mkproc "Server-$a" "Sub-$a" server --chain full
	export_ca "Root-$a" "$D/root.pem"
	export_ca "Sub-$a" "$D/sub.pem"

	run cm ca list
	is "$alg: ca list: name, state, issuer, key, subject" \
	    "$(line_for "Root-$a" "$T/out" | tr '\t' '|') $(line_for "Sub-$a" "$T/out" | tr '\t' '|')" \
	    "Root-$a|active|self-signed|Root-$a-key|C=SE,O=opencm test,CN=Root-$a CA Sub-$a|active|Root-$a|Sub-$a-key|C=SE,O=opencm test,CN=Sub-$a CA"

	mkcsr "leaf-$a" /CN=www.example.test
	check "$alg: issue a server certificate for a CSR with only a CN" \
	    cm issue -p "Server-$a" --csr "$T/leaf-$a.csr" -o "$D/full.pem"
	serial=$(tr -d ' \r\n' <"$T/out")
	pem_split "$D/full.pem" "$D/full"
	cp "$D/full.1.pem" "$D/leaf.pem" 2>/dev/null

	must cm crl issue --ca "Root-$a" -o "$D/root.crl"
	rootno=$(tr -d ' \r\n' <"$T/out")
	must cm crl issue --ca "Sub-$a" -o "$D/sub.crl"
	subno=$(tr -d ' \r\n' <"$T/out")

	run openssl verify -x509_strict -crl_check_all -CAfile "$D/root.pem" \
	    -untrusted "$D/sub.pem" -CRLfile "$D/root.crl" \
	    -CRLfile "$D/sub.crl" "$D/leaf.pem"
	is "$alg: openssl verify -x509_strict -crl_check_all says OK" \
	    "$RC $(cat "$T/out" "$T/err")" "0 $D/leaf.pem: OK"
	assert "$alg: openssl crl -verify accepts the root CRL" \
	    crl_verify "$D/root.crl" "$D/root.pem"
	assert "$alg: openssl crl -verify accepts the sub CA CRL" \
	    crl_verify "$D/sub.crl" "$D/sub.pem"

	for f in root sub leaf; do
		pem2der "$D/$f.pem" "$D/$f.der"
	done
	for f in root sub; do
		pem2der "$D/$f.crl" "$D/$f.crl.der"
	done
	assert "$alg: dumpasn1 finds no error in the certificates and CRLs" \
	    dumpasn1_ok "$D/root.der" "$D/sub.der" "$D/leaf.der" \
	    "$D/root.crl.der" "$D/sub.crl.der"

	is "$alg: issue printed the serial of the certificate" \
	    "$(normserial "$serial")" "$(cert_serial "$D/leaf.pem")"
	assert "$alg: root, sub CA and leaf serials are 16 octets, positive" \
	    serials_ok "$D/root.pem" "$D/sub.pem" "$D/leaf.pem"
	like "$alg: the commonName was copied into a dNSName" \
	    "$(openssl x509 -in "$D/leaf.pem" -noout -ext subjectAltName)" \
	    'DNS:www\.example\.test'
	is "$alg: AKI of leaf = SKI of sub CA, AKI of sub CA = SKI of root" \
	    "$(aki_of "$D/leaf.pem") $(aki_of "$D/sub.pem")" \
	    "$(ski_of "$D/sub.pem") $(ski_of "$D/root.pem")"
	assert "$alg: both CA certificates: critical basicConstraints, keyCertSign" \
	    ca_certs_ok "$D/root.pem" "$D/sub.pem"
	like "$alg: the root has the pathLenConstraint 1 it was given" \
	    "$(openssl x509 -in "$D/root.pem" -noout -ext basicConstraints |
	    tr '\n' ' ')" 'pathlen: *1( |$)'
	like "$alg: the leaf carries the CDP and AIA of its CA" \
	    "$(openssl x509 -in "$D/leaf.pem" -noout \
	    -ext crlDistributionPoints,authorityInfoAccess | tr '\n' ' ')" \
	    'URI:http://127\.0\.0\.1/x\.crl.*CA Issuers - URI:http://127\.0\.0\.1/x\.crt'
	assert "$alg: root CRL is v2 with cRLNumber and authorityKeyIdentifier" \
	    crl_ok "$D/root.crl" "$D/root.pem" "$rootno"
	assert "$alg: sub CA CRL is v2 with cRLNumber and authorityKeyIdentifier" \
	    crl_ok "$D/sub.crl" "$D/sub.pem" "$subno"

	# Revoke the leaf: the same openssl verify now fails.
	check "$alg: revoke the leaf for keyCompromise" \
	    cm revoke "$serial" -r keyCompromise
	must cm crl issue --ca "Sub-$a" -o "$D/sub2.crl"
	run openssl verify -x509_strict -crl_check_all -CAfile "$D/root.pem" \
	    -untrusted "$D/sub.pem" -CRLfile "$D/root.crl" \
	    -CRLfile "$D/sub2.crl" "$D/leaf.pem"
	assert "$alg: openssl verify now fails: certificate revoked" \
	    verify_revoked
	is "$alg: the new sub CA CRL lists the leaf as Key Compromise" \
	    "$(crl_entries "$D/sub2.crl" |
	    awk -F '\t' -v s="$(normserial "$serial")" '$1 == s { print $2 }')" \
	    "Key Compromise"

	# Revoke the sub CA: it appears on the root CRL.
	check "$alg: ca revoke the sub CA" \
	    cm ca revoke "Sub-$a" -r keyCompromise
	must cm crl issue --ca "Root-$a" -o "$D/root2.crl"
	run openssl verify -crl_check -CAfile "$D/root.pem" \
	    -CRLfile "$D/root2.crl" "$D/sub.pem"
	assert "$alg: the sub CA fails verification against the root CRL" \
	    verify_revoked
	run cm ca list
	is "$alg: ca list shows the sub CA as revoked" \
	    "$(line_for "Sub-$a" "$T/out" | field 2)" revoked
	run cm cert-procedure list
	like "$alg: cert-procedure list shows its procedure as unusable" \
	    "$(line_for "Server-$a" "$T/out" | tr '\t' '|')" \
	    "^Server-$a\\|Sub-$a\\|server\\|unusable: "
	mkcsr "late-$a" /CN=late.example.test
	check_fail 4 "Sub-$a|Server-$a" "$alg: the revoked sub CA issues nothing" \
	    cm issue -p "Server-$a" --csr "$T/late-$a.csr" -o "$D/late.pem"
done

done_testing
