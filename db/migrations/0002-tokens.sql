-- opencm CMDB, schema version 2: subjects, token procedures and tokens.

-- A registered person or device that certificates are issued to.
CREATE TABLE subjects (
	id		INTEGER PRIMARY KEY,
	dn		TEXT NOT NULL UNIQUE,
	email		TEXT,
	san		TEXT,
	created		INTEGER NOT NULL
) STRICT;

-- How a bearer is produced: storage profile, card rules, PIN procedure,
-- issuer certificates to store, and one certificate procedure per key.
CREATE TABLE token_procedures (
	id		INTEGER PRIMARY KEY,
	name		TEXT NOT NULL UNIQUE,
	storage		TEXT NOT NULL
			CHECK (storage IN ('smartcard', 'pkcs12', 'pkcs10')),
	card_serial	INTEGER NOT NULL,
	serial_range	TEXT NOT NULL
			CHECK (serial_range IN ('mandatory', 'optional', 'none')),
	pin_procedure	TEXT NOT NULL CHECK (pin_procedure IN ('show', 'letter')),
	issuer_certs	TEXT NOT NULL CHECK (issuer_certs IN ('none', 'ca', 'chain')),
	key_type	TEXT NOT NULL,
	created		INTEGER NOT NULL
) STRICT;

CREATE TABLE token_procedure_keys (
	token_procedure_id INTEGER NOT NULL REFERENCES token_procedures(id),
	position	INTEGER NOT NULL,
	procedure_id	INTEGER NOT NULL REFERENCES procedures(id),
	PRIMARY KEY (token_procedure_id, position)
) STRICT;

-- An issued bearer.  The PIN is never stored.
CREATE TABLE tokens (
	id		INTEGER PRIMARY KEY,
	token_procedure_id INTEGER NOT NULL REFERENCES token_procedures(id),
	subject_id	INTEGER NOT NULL REFERENCES subjects(id),
	storage		TEXT NOT NULL,
	card_serial	TEXT,
	state		TEXT NOT NULL CHECK (state IN ('active', 'revoked')),
	created		INTEGER NOT NULL
) STRICT;
CREATE INDEX tokens_subject ON tokens(subject_id);

ALTER TABLE certs ADD COLUMN token_id INTEGER REFERENCES tokens(id);
ALTER TABLE certs ADD COLUMN subject_id INTEGER REFERENCES subjects(id);
CREATE INDEX certs_token ON certs(token_id);
