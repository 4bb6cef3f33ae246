#!/bin/sh
# t-issue.sh: cmctl issue: subject alternative name rules, subject
# override, output forms, chains, batches, and refused requests.
# shellcheck source=tests/regress/lib.sh
. "$(dirname "$0")/lib.sh"

plan 78

pki_basic
mkproc Est Sub estenroll
mkproc Email Sub email
mkproc ServerCa Sub server --chain ca
mkproc ServerFull Sub server --chain full
mkproc Strict Sub server --allow-keys rsa:2048,ec:p256
mkproc Challenge Sub server --field challenge-password=allow
mksub Batch Root ec:p256
mkproc BatchServer Batch server
export_ca Root "$T/root.pem"
export_ca Sub "$T/sub.pem"

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

# issue_to NAME PROCEDURE [issue options]: issue $T/NAME.csr to $T/NAME.pem.
issue_to() {
	_it_n=$1
	_it_p=$2
	shift 2
	run cm issue -p "$_it_p" --csr "$T/$_it_n.csr" -o "$T/$_it_n.pem" "$@"
	if [ "$RC" -ne 0 ]; then
		_show_run cm issue -p "$_it_p" --csr "$T/$_it_n.csr" "$@"
		rm -f "$T/$_it_n.pem"
	fi
}

run cm cert-procedure list
is "cert-procedure list: name, CA, format, state" \
    "$(line_for Server "$T/out" | tr '\t' '|') $(line_for Email "$T/out" | tr '\t' '|')" \
    "Server|Sub|server|usable Email|Sub|email|usable"

# --- subject alternative names: server and estenroll -------------------------

mkcsr cn-only /CN=cn.example.test
issue_to cn-only Server
is "server: a request with only a CN gets it as its dNSName" \
    "$(san_of "$T/cn-only.pem")" "DNS:cn.example.test"
mkcsr est-cn /CN=est.example.test
issue_to est-cn Est
is "estenroll: a request with only a CN gets it as its dNSName" \
    "$(san_of "$T/est-cn.pem")" "DNS:est.example.test"

mkcsr san-only /O=Example \
    -addext subjectAltName=DNS:first.example.test,DNS:second.example.test
issue_to san-only Server
like "server: a request without CN gets its first dNSName as CN" \
    "$(subject_of "$T/san-only.pem")" '(^|,)CN=first\.example\.test(,|$)'
is "server: and its subjectAltName is kept" "$(san_of "$T/san-only.pem")" \
    "DNS:first.example.test, DNS:second.example.test"
mkcsr est-san /O=Example -addext subjectAltName=DNS:est2.example.test
issue_to est-san Est
like "estenroll: a request without CN gets its dNSName as CN" \
    "$(subject_of "$T/est-san.pem")" '(^|,)CN=est2\.example\.test(,|$)'

mkcsr unstructured \
    '/O=Example/unstructuredName=router.example.test/unstructuredAddress=10.0.0.7'
issue_to unstructured Server
like "server: unstructuredName and unstructuredAddress become dNSName and iPAddress" \
    "$(san_of "$T/unstructured.pem")" \
    '^(DNS:router\.example\.test, IP Address:10\.0\.0\.7|IP Address:10\.0\.0\.7, DNS:router\.example\.test)$'
like "server: the unstructuredName stays in the subject" \
    "$(subject_of "$T/unstructured.pem")" 'unstructuredName=router\.example\.test'

mkcsr add-san /CN=www.example.test -addext subjectAltName=DNS:csr.example.test
issue_to add-san Server --san DNS:a.example.test,IP:10.0.0.1
s=$(san_of "$T/add-san.pem")
assert "--san adds DNS:a.example.test and IP:10.0.0.1 to the request's names" \
    sh -c 'for n in DNS:csr.example.test DNS:a.example.test "IP Address:10.0.0.1"; do
	printf "%s\n" "$1" | tr "," "\n" | sed "s/^ *//" | grep -qx "$n" ||
	    { echo "missing $n in $1"; exit 1; }; done' sh "$s"

mkcsr no-names /O=Example
check_refused 4 'dNSName|iPAddress' "server: a request with no host name is refused" \
    cm issue -p Server --csr "$T/no-names.csr" -o "$T/no-names.pem"

# --- email ---------------------------------------------------------------------

mkcsr alice '/CN=Alice Example'
check_refused 4 'rfc822Name|e-?mail' "email: a request without rfc822Name is refused" \
    cm issue -p Email --csr "$T/alice.csr" -o "$T/alice.pem"
check "email: accepted with --san email:alice@example.test" \
    cm issue -p Email --csr "$T/alice.csr" -o "$T/alice.pem" \
    --san email:alice@example.test
like "email: the certificate has the rfc822Name" "$(san_of "$T/alice.pem")" \
    '(^|, )email:alice@example\.test(,|$)'

# --- subject override ------------------------------------------------------------

# The officer who issues decides the subject: -s always replaces the
# request's, and an unknown custom field is refused.
check_refused 3 'unknown field' "cert-procedure create refuses an unknown --field" \
    cm cert-procedure create -n Override --ca Sub --format server \
    --field subject-override=allow
mkcsr override /CN=www.example.test
check "issue -s replaces the subject" \
    cm issue -p Server --csr "$T/override.csr" -o "$T/override.pem" \
    -s 'C=SE,O=Example,CN=override.example.test'
ov_serial=$(tr -d ' \r\n' <"$T/out")
is "the certificate has the given subject, in the given order" \
    "$(subject_of "$T/override.pem")" "CN=override.example.test,O=Example,C=SE"
run cm cert list --ca Sub
is "cert list prints that subject most significant first" \
    "$(awk -F '\t' -v s="$(normserial "$ov_serial")" '{ x = $1; sub(/^0+/, "", x) } x == s { print $5 }' "$T/out")" \
    "C=SE,O=Example,CN=override.example.test"
check_refused 3 'subject' "issue -s with a malformed DN is refused" \
    cm issue -p Server --csr "$T/override.csr" -o "$T/override2.pem" \
    -s 'C=SE,O=Example,CN'


# --- output forms --------------------------------------------------------------------

mkcsr der /CN=der.example.test
check "issue --der -o writes a certificate" \
    cm issue -p Server --csr "$T/der.csr" --der -o "$T/der.der"
der_serial=$(tr -d ' \r\n' <"$T/out")
is "openssl x509 -inform DER reads it; its serial is the one printed" \
    "$(cert_serial "$T/der.der" DER)" "$(normserial "$der_serial")"
refute "the --der output has no PEM armour" grep -q -- '-----BEGIN' "$T/der.der"
run cm cert export "$der_serial" --der -o "$T/der-export.der"
assert "cert export --der gives the same bytes" cmp "$T/der-export.der" "$T/der.der"
run cm cert export "$der_serial"
cp "$T/out" "$T/der-export.pem"
is "cert export (PEM, to stdout) gives the same certificate" \
    "$(fingerprint "$T/der-export.pem")" "$(fingerprint "$T/der.der" DER)"

mkcsr stdout /CN=stdout.example.test
run cm issue -p Server --csr "$T/stdout.csr"
cp "$T/out" "$T/stdout.pem"
assert "without -o the PEM certificate goes to stdout" \
    sh -c '[ "$(head -n 1 "$1")" = "-----BEGIN CERTIFICATE-----" ] &&
	openssl x509 -in "$1" -noout -subject' sh "$T/stdout.pem"

# der_single FILE: FILE is exactly one DER object, nothing after it.
der_single() {
	python3 -c '
import sys
d = open(sys.argv[1], "rb").read()
n = d[1]; i = 2
if n & 0x80:
    k = n & 0x7f; n = int.from_bytes(d[2:2 + k], "big"); i = 2 + k
print("DER object of", i + n, "bytes in a file of", len(d))
sys.exit(0 if d[0] == 0x30 and i + n == len(d) else 1)
' "$1"
}

mkcsr chain-none /CN=none.example.test
issue_to chain-none Server
is "chain none writes 1 certificate" "$(pem_count "$T/chain-none.pem")" 1
mkcsr chain-ca /CN=ca.example.test
issue_to chain-ca ServerCa
pem_split "$T/chain-ca.pem" "$T/chain-ca"
is "chain ca writes 2 certificates: the leaf, then the issuing CA" \
    "$(pem_count "$T/chain-ca.pem") $(fingerprint "$T/chain-ca.2.pem")" \
    "2 $(fingerprint "$T/sub.pem")"
mkcsr chain-full /CN=full.example.test
issue_to chain-full ServerFull
pem_split "$T/chain-full.pem" "$T/chain-full"
is "chain full writes 3 certificates: leaf, sub CA, root" \
    "$(pem_count "$T/chain-full.pem") $(fingerprint "$T/chain-full.2.pem") $(fingerprint "$T/chain-full.3.pem")" \
    "3 $(fingerprint "$T/sub.pem") $(fingerprint "$T/root.pem")"
is "the leaf comes first" "$(aki_of "$T/chain-full.1.pem")" \
    "$(ski_of "$T/sub.pem")"
run cm ca export Sub --chain -o "$T/sub-chain.pem"
pem_split "$T/sub-chain.pem" "$T/sub-chain"
is "ca export --chain: the sub CA, then the root" \
    "$(pem_count "$T/sub-chain.pem") $(fingerprint "$T/sub-chain.1.pem") $(fingerprint "$T/sub-chain.2.pem")" \
    "2 $(fingerprint "$T/sub.pem") $(fingerprint "$T/root.pem")"
mkcsr chain-der /CN=fullder.example.test
run cm issue -p ServerFull --csr "$T/chain-der.csr" --der -o "$T/chain-der.der"
assert "--der with chain full writes the certificate alone" \
    der_single "$T/chain-der.der"

# --- batches ---------------------------------------------------------------------------

BD=$T/batch
BO=$T/batch-out
mkdir -p "$BD" "$BO"
i=1
while [ $i -le 20 ]; do
	nn=$(printf '%02d' $i)
	mkcsr "b$nn" "/O=Example/CN=host$nn.example.test"
	if [ $i -le 14 ]; then
		cp "$T/b$nn.csr" "$BD/req-$nn.csr"
	elif [ $i -le 17 ]; then
		cp "$T/b$nn.csr" "$BD/req-$nn.pem"
	else
		openssl req -in "$T/b$nn.csr" -outform DER -out "$BD/req-$nn.der"
	fi
	i=$((i + 1))
done
echo "not a request" >"$BD/README.txt"

check "batch: 20 requests (.csr, .pem and .der) in one run" \
    cm issue -p BatchServer --csr-dir "$BD" --out-dir "$BO"
cp "$T/out" "$T/batch.lines"
want=$(i=1; while [ $i -le 20 ]; do printf 'req-%02d.pem ' $i; i=$((i + 1)); done)
is "batch: 20 certificates, named after their requests" \
    "$(cd "$BO" && ls | sort | tr '\n' ' ')" "$want"
is "batch: 20 lines of SERIAL<TAB>FILE with 20 distinct serials" \
    "$(lines "$T/batch.lines") $(field 1 "$T/batch.lines" | sort -u | wc -l | tr -d ' ')" \
    "20 20"

# batch_lines_ok: every printed serial is the serial of the file beside it.
batch_lines_ok() {
	_r=0
	while IFS='	' read -r _s _f; do
		[ -f "$_f" ] || _f=$BO/$_f
		if [ ! -f "$_f" ]; then
			echo "no file for line '$_s $_f'"
			_r=1
		elif [ "$(cert_serial "$_f")" != "$(normserial "$_s")" ]; then
			echo "$_f: serial $(cert_serial "$_f"), printed $_s"
			_r=1
		fi
	done <"$T/batch.lines"
	return $_r
}
assert "batch: each printed serial is the serial in its file" batch_lines_ok
run cm cert list --ca Batch
is "batch: cert list --ca Batch counts 20" "$(lines "$T/out")" 20

BD2=$T/batch2
BO2=$T/batch2-out
mkdir -p "$BD2" "$BO2"
cp "$T/b01.csr" "$BD2/one.csr"
cp "$T/b02.csr" "$BD2/two.csr"
check "batch --der" cm issue -p BatchServer --csr-dir "$BD2" --out-dir "$BO2" --der
assert "batch --der writes one.der and two.der in DER" \
    sh -c 'cd "$1" && [ "$(ls | tr "\n" " ")" = "one.der two.der " ] &&
	openssl x509 -inform DER -in one.der -noout &&
	openssl x509 -inform DER -in two.der -noout' sh "$BO2"

BD3=$T/batch3
BO3=$T/batch3-out
mkdir -p "$BD3" "$BO3"
for nn in 03 04 05 06 07; do
	cp "$T/b$nn.csr" "$BD3/req-$nn.csr"
done
random_file "$BD3/zz-bad.csr" 700
check_refused 3 'zz-bad\.csr' "batch: one garbage request stops the batch, named" \
    cm issue -p BatchServer --csr-dir "$BD3" --out-dir "$BO3"
is "batch: nothing was written" "$(ls -A "$BO3")" ""

# --- refused requests --------------------------------------------------------------------

FD=$T/fault-out
mkdir -p "$FD"
OUTF=$FD/cert.pem

# fault STATUS PATTERN DESC CMD...: refused, CMDB unchanged, nothing written.
fault() {
	check_refused "$@"
	is "$3: nothing written" "$(ls -A "$FD")" ""
	rm -rf "$FD"
	mkdir -p "$FD"
}

random_file "$T/garbage.csr" 600
fault 3 'garbage\.csr' "a request of random bytes: exit 3" \
    cm issue -p Server --csr "$T/garbage.csr" -o "$OUTF"

mkcsr good /CN=good.example.test
head -c $(($(wc -c <"$T/good.csr") / 2)) "$T/good.csr" >"$T/truncated.csr"
fault 3 'truncated\.csr' "a truncated request: exit 3" \
    cm issue -p Server --csr "$T/truncated.csr" -o "$OUTF"

openssl req -in "$T/good.csr" -outform DER -out "$T/good.der"
python3 -c '
import sys
d = bytearray(open(sys.argv[1], "rb").read())
d[-1] ^= 0x01
open(sys.argv[2], "wb").write(d)
' "$T/good.der" "$T/badsig.der"
fault 3 'signature' "a request with a bad signature: exit 3" \
    cm issue -p Server --csr "$T/badsig.der" -o "$OUTF"

mkcsr_alg rsa:1024 rsa1024 /CN=rsa.example.test
fault 4 '1024.*2048|2048.*1024' "RSA-1024 under --allow-keys rsa:2048,ec:p256: exit 4" \
    cm issue -p Strict --csr "$T/rsa1024.csr" -o "$OUTF"
mkcsr_alg ec:P-384 p384 /CN=p384.example.test
fault 4 'Strict' "an EC P-384 key under --allow-keys rsa:2048,ec:p256: exit 4" \
    cm issue -p Strict --csr "$T/p384.csr" -o "$OUTF"
check "an EC P-256 key under --allow-keys rsa:2048,ec:p256 is accepted" \
    cm issue -p Strict --csr "$T/good.csr" -o "$T/strict-ok.pem"

cat >"$T/cp.cnf" <<'EOF'
[req]
distinguished_name = dn
attributes = attrs
prompt = no
[dn]
CN = cp.example.test
[attrs]
challengePassword = A challenge 4711
EOF
openssl req -new -config "$T/cp.cnf" -newkey ec \
    -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/cp.key" \
    -out "$T/cp.csr" >"$T/openssl.log" 2>&1 || die "openssl req (challengePassword)"
fault 4 'challenge' "a challengePassword request under Server: exit 4" \
    cm issue -p Server --csr "$T/cp.csr" -o "$OUTF"
check "accepted under challenge-password=allow" \
    cm issue -p Challenge --csr "$T/cp.csr" -o "$T/cp.pem"
refute "the challengePassword is not in the certificate nor the CMDB" \
    grep -a -F 'A challenge 4711' -- "$T/cp.pem" "$T"/cm.db*

fault 5 'NoSuchProcedure' "an unknown procedure: exit 5" \
    cm issue -p NoSuchProcedure --csr "$T/good.csr" -o "$OUTF"
fault 3 'missing\.csr' "a request file that does not exist: exit 3" \
    cm issue -p Server --csr "$T/missing.csr" -o "$OUTF"

# --- atomic output ---------------------------------------------------------------------------

printf 'keep me\n' >"$T/existing.pem"
cp "$T/existing.pem" "$T/existing.orig"
run cm issue -p Server --csr "$T/garbage.csr" -o "$T/existing.pem"
assert "a refused issue leaves an existing -o file byte-identical" \
    sh -c '[ "$1" -ne 0 ] && cmp "$2" "$3"' sh "$RC" "$T/existing.pem" \
    "$T/existing.orig"

# --- certificate procedures that cannot be made ---------------------------------------------

check_refused 5 'NoSuchCA' "cert-procedure create with an unknown CA: exit 5" \
    cm cert-procedure create -n Orphan --ca NoSuchCA --format server
check_refused 4 'keyCertSign' "key usage keyCertSign with format server: exit 4" \
    cm cert-procedure create -n BadKU --ca Sub --format server \
    --key-usage keyCertSign
check_refused 3 'no-such-field' "an unknown --field key: exit 3" \
    cm cert-procedure create -n BadField --ca Sub --format server \
    --field no-such-field=1

done_testing
