-- opencm CMDB, schema version 5: distribution rules.

-- Where and how publications go: an HTTPS URL, PUT or POST, what is
-- published (a comma list of crl, delta-crl, ca-cert, certs, cil), DER or
-- PEM, the CA certificates that the server's certificate must chain to,
-- the TLS client credential (a PKCS#11 URI or a PKCS#12 file), and
-- optional HTTP basic credentials, the password sealed under the key
-- store (PBES2), never in clear.
CREATE TABLE dist_rules (
	id		INTEGER PRIMARY KEY,
	name		TEXT NOT NULL UNIQUE,
	url		TEXT NOT NULL,
	method		TEXT NOT NULL CHECK (method IN ('PUT', 'POST')),
	content		TEXT NOT NULL,
	format		TEXT NOT NULL CHECK (format IN ('der', 'pem')),
	server_ca	TEXT NOT NULL,
	client		TEXT,
	basic_user	TEXT,
	basic_password	BLOB,
	created		INTEGER NOT NULL
) STRICT;

-- A rule attached to a CA (its CRLs, CA certificate, CIL and the
-- certificates it issues) or to a certificate procedure (the
-- certificates issued under it).
CREATE TABLE dist_attach (
	rule_id		INTEGER NOT NULL REFERENCES dist_rules(id),
	ca_id		INTEGER REFERENCES cas(id),
	procedure_id	INTEGER REFERENCES procedures(id),
	CHECK ((ca_id IS NULL) != (procedure_id IS NULL)),
	UNIQUE (rule_id, ca_id, procedure_id)
) STRICT;
