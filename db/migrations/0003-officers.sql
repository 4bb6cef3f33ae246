-- opencm CMDB, schema version 3: officer profiles and officers.

-- A named set of permissions: policy (administer policy), issue (register
-- and issue), revoke, recover (recover keys), audit (read the audit log).
CREATE TABLE officer_profiles (
	id		INTEGER PRIMARY KEY,
	name		TEXT NOT NULL UNIQUE,
	permissions	TEXT NOT NULL,
	created		INTEGER NOT NULL
) STRICT;

-- A person bound to one certificate; the certificate's SHA-256 finds the
-- officer when a token logs in.
CREATE TABLE officers (
	id		INTEGER PRIMARY KEY,
	name		TEXT NOT NULL UNIQUE,
	profile_id	INTEGER NOT NULL REFERENCES officer_profiles(id),
	cert		BLOB NOT NULL,
	cert_sha256	TEXT NOT NULL UNIQUE,
	ca_id		INTEGER NOT NULL REFERENCES cas(id),
	serial		TEXT NOT NULL,
	state		TEXT NOT NULL CHECK (state IN ('active', 'disabled')),
	two_step	INTEGER NOT NULL DEFAULT 1,
	created		INTEGER NOT NULL
) STRICT;

-- The signatures on policy changes: detached CMS (RFC 5652) over the
-- canonical document, one per officer.
CREATE TABLE change_signatures (
	id		INTEGER PRIMARY KEY,
	change_id	INTEGER NOT NULL REFERENCES changes(id),
	officer_id	INTEGER NOT NULL REFERENCES officers(id),
	cms		BLOB NOT NULL,
	signed		INTEGER NOT NULL,
	UNIQUE (change_id, officer_id)
) STRICT;

-- object: what the change is about.  base: the last applied change when a
-- pending change was first signed; a change applied since then refuses
-- the second signature.  reason: why a change was rejected.
ALTER TABLE changes ADD COLUMN object TEXT;
ALTER TABLE changes ADD COLUMN base INTEGER;
ALTER TABLE changes ADD COLUMN reason TEXT;

-- The SHA-256 of the whole policy (keys, CAs, procedures, token
-- procedures, officer profiles, officers) as an applied change left it;
-- audit verify compares the policy in the CMDB with the last one.
ALTER TABLE changes ADD COLUMN policy_digest TEXT;

-- Audit checkpoints: the log signing key (logsignkey in cm.conf) signs the
-- sequence number and hash of the newest audit record, so a log cut short
-- or rewritten shows.
CREATE TABLE audit_checkpoints (
	id		INTEGER PRIMARY KEY,
	seq		INTEGER NOT NULL,
	hash		BLOB NOT NULL,
	time		INTEGER NOT NULL,
	key_identifier	TEXT NOT NULL,
	signature	BLOB NOT NULL
) STRICT;
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN
	SELECT RAISE(ABORT, 'audit checkpoints cannot be changed');
END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN
	SELECT RAISE(ABORT, 'audit checkpoints cannot be deleted');
END;
