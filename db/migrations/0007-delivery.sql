-- opencm CMDB, schema version 7: delivery by cm-da, immediate delta CRLs,
-- certificate issuance lists.

-- A CA may issue a delta CRL at once on every revocation (and publish it).
ALTER TABLE cas ADD COLUMN revoke_delta INTEGER NOT NULL DEFAULT 0;

-- The secret of a rule's TLS client credential (the PKCS#12 file's
-- passphrase or the token's user PIN), sealed under the key store.
ALTER TABLE dist_rules ADD COLUMN client_secret BLOB;

-- Certificate issuance lists: the serials a CA issued that are still
-- valid, signed (see cm-da(8) for the ASN.1).
CREATE TABLE cils (
	id		INTEGER PRIMARY KEY,
	ca_id		INTEGER NOT NULL REFERENCES cas(id),
	number		INTEGER NOT NULL,
	this_update	INTEGER NOT NULL,
	next_update	INTEGER NOT NULL,
	entries		INTEGER NOT NULL,
	der		BLOB NOT NULL,
	UNIQUE (ca_id, number)
) STRICT;

-- The queue again, with two more states: superseded (a newer CRL or CIL
-- of the same rule and CA took its place before it went out) and
-- withdrawn (the rule was detached before it went out); and the number of
-- a CRL or CIL in one column.  The CA certificate's item names
-- the certificate's row, so a new CA certificate is a new item.
CREATE TABLE publications_new (
	id		INTEGER PRIMARY KEY,
	rule_id		INTEGER NOT NULL REFERENCES dist_rules(id),
	kind		TEXT NOT NULL CHECK (kind IN ('crl', 'delta-crl',
			    'ca-cert', 'cert', 'cil')),
	ca_id		INTEGER NOT NULL REFERENCES cas(id),
	number		INTEGER,
	cert_id		INTEGER REFERENCES certs(id),
	target		TEXT NOT NULL,
	state		TEXT NOT NULL CHECK (state IN ('pending', 'delivered',
			    'failed', 'superseded', 'withdrawn')),
	attempts	INTEGER NOT NULL DEFAULT 0,
	next_try	INTEGER NOT NULL,
	last_error	TEXT,
	created		INTEGER NOT NULL,
	delivered	INTEGER
) STRICT;
INSERT INTO publications_new (id, rule_id, kind, ca_id, number, cert_id,
    target, state, attempts, next_try, last_error, created, delivered)
    SELECT p.id, p.rule_id, p.kind, p.ca_id, p.crl_number,
    CASE p.kind WHEN 'ca-cert' THEN (SELECT cert_id FROM cas WHERE id =
    p.ca_id) ELSE p.cert_id END, p.target, p.state, p.attempts, p.next_try,
    p.last_error, p.created, p.delivered FROM publications p;
DROP TABLE publications;
ALTER TABLE publications_new RENAME TO publications;
CREATE UNIQUE INDEX publications_item ON publications(rule_id, kind, ca_id,
    coalesce(number, 0), coalesce(cert_id, 0));
CREATE INDEX publications_state ON publications(state, next_try);
CREATE INDEX publications_target ON publications(rule_id, target, id);
