-- opencm CMDB, schema version 1.
-- Applied in one transaction by store.c; PRAGMA user_version is set after it.

CREATE TABLE keystore (
	id		INTEGER PRIMARY KEY CHECK (id = 1),
	kdf		TEXT NOT NULL,
	salt		BLOB NOT NULL,
	n		INTEGER NOT NULL,
	r		INTEGER NOT NULL,
	p		INTEGER NOT NULL,
	verifier	BLOB NOT NULL
) STRICT;

-- The Key Registry.  private holds an encrypted PKCS#8 for soft keys and is
-- NULL for keys on a device and for removed keys.
CREATE TABLE keys (
	id		INTEGER PRIMARY KEY,
	name		TEXT NOT NULL UNIQUE,
	identifier	TEXT NOT NULL UNIQUE,
	algorithm	TEXT NOT NULL,
	device		TEXT NOT NULL,
	state		TEXT NOT NULL
			CHECK (state IN ('in use', 'retired', 'removed')),
	spki		BLOB NOT NULL,
	private		BLOB,
	created		INTEGER NOT NULL
) STRICT;

CREATE TABLE cas (
	id		INTEGER PRIMARY KEY,
	name		TEXT NOT NULL UNIQUE,
	key_id		INTEGER NOT NULL REFERENCES keys(id),
	subject		TEXT NOT NULL,
	issuer_id	INTEGER REFERENCES cas(id),
	external	INTEGER NOT NULL DEFAULT 0,
	state		TEXT NOT NULL
			CHECK (state IN ('pending', 'active', 'revoked')),
	cert		BLOB,
	cert_id		INTEGER REFERENCES certs(id),
	chain		BLOB,
	serial		TEXT,
	not_before	INTEGER,
	not_after	INTEGER,
	pathlen		INTEGER,
	crl_interval	INTEGER NOT NULL,
	delta_interval	INTEGER NOT NULL,
	cdp		TEXT,
	aia		TEXT,
	created		INTEGER NOT NULL
) STRICT;

CREATE TABLE procedures (
	id		INTEGER PRIMARY KEY,
	name		TEXT NOT NULL UNIQUE,
	ca_id		INTEGER NOT NULL REFERENCES cas(id),
	format		TEXT NOT NULL,
	key_usage	TEXT NOT NULL,
	eku		TEXT NOT NULL,
	validity	TEXT NOT NULL,
	digest		TEXT NOT NULL,
	chain		TEXT NOT NULL CHECK (chain IN ('none', 'ca', 'full')),
	allow_keys	TEXT NOT NULL,
	fields		TEXT NOT NULL,
	created		INTEGER NOT NULL
) STRICT;

-- Every certificate a CA in the CMDB signed, sub CA certificates included.
-- "expired" is not a status: it is a valid certificate past not_after.
CREATE TABLE certs (
	id		INTEGER PRIMARY KEY,
	ca_id		INTEGER NOT NULL REFERENCES cas(id),
	serial		TEXT NOT NULL,
	subject		TEXT NOT NULL,
	procedure_id	INTEGER REFERENCES procedures(id),
	not_before	INTEGER NOT NULL,
	not_after	INTEGER NOT NULL,
	issued		INTEGER NOT NULL,
	status		TEXT NOT NULL
			CHECK (status IN ('valid', 'hold', 'revoked')),
	der		BLOB NOT NULL,
	UNIQUE (ca_id, serial)
) STRICT;
CREATE INDEX certs_serial ON certs(serial);
CREATE INDEX certs_subject ON certs(subject);
CREATE INDEX certs_not_after ON certs(not_after);
CREATE INDEX certs_status ON certs(status, not_after);

-- One row per revocation or hold.  event and released are values of the
-- revocation event counter, so delta CRLs list what changed after a base.
CREATE TABLE revocations (
	id		INTEGER PRIMARY KEY,
	cert_id		INTEGER NOT NULL REFERENCES certs(id),
	ca_id		INTEGER NOT NULL REFERENCES cas(id),
	serial		BLOB NOT NULL,
	reason		INTEGER NOT NULL,
	revocation_time	INTEGER NOT NULL,
	event		INTEGER NOT NULL,
	released	INTEGER
) STRICT;
CREATE UNIQUE INDEX revocations_active ON revocations(cert_id)
	WHERE released IS NULL;
CREATE INDEX revocations_ca ON revocations(ca_id, event);

CREATE TABLE crls (
	id		INTEGER PRIMARY KEY,
	ca_id		INTEGER NOT NULL REFERENCES cas(id),
	number		INTEGER NOT NULL,
	delta		INTEGER NOT NULL,
	base_number	INTEGER,
	this_update	INTEGER NOT NULL,
	next_update	INTEGER NOT NULL,
	event		INTEGER NOT NULL,
	entries		INTEGER NOT NULL,
	der		BLOB NOT NULL,
	UNIQUE (ca_id, number)
) STRICT;

CREATE TABLE counters (
	name		TEXT PRIMARY KEY,
	value		INTEGER NOT NULL
) STRICT;
INSERT INTO counters (name, value) VALUES ('revocation event', 0);

-- Policy changes, as the canonical XML document that was applied.
CREATE TABLE changes (
	id		INTEGER PRIMARY KEY,
	type		TEXT NOT NULL,
	document	TEXT NOT NULL,
	digest		TEXT NOT NULL,
	state		TEXT NOT NULL CHECK (state IN ('pending', 'applied',
			    'rejected')),
	created		INTEGER NOT NULL,
	applied		INTEGER
) STRICT;

CREATE TABLE audit (
	seq		INTEGER PRIMARY KEY,
	time		INTEGER NOT NULL,
	actor		TEXT NOT NULL,
	action		TEXT NOT NULL,
	object		TEXT NOT NULL,
	result		TEXT NOT NULL,
	detail		TEXT NOT NULL,
	prev		BLOB NOT NULL,
	hash		BLOB NOT NULL
) STRICT;
CREATE INDEX audit_time ON audit(time);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
	SELECT RAISE(ABORT, 'audit records cannot be changed');
END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
	SELECT RAISE(ABORT, 'audit records cannot be deleted');
END;
