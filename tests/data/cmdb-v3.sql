-- A CMDB made by opencm at commit 89dd023 (schema version 3), key store
-- passphrase 'pass phrase 1': for t-upgrade.sh.  sqlite3 .dump, and the
-- user_version and application_id the dump does not carry.
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE keystore (
	id		INTEGER PRIMARY KEY CHECK (id = 1),
	kdf		TEXT NOT NULL,
	salt		BLOB NOT NULL,
	n		INTEGER NOT NULL,
	r		INTEGER NOT NULL,
	p		INTEGER NOT NULL,
	verifier	BLOB NOT NULL
) STRICT;
INSERT INTO keystore VALUES(1,'scrypt',X'b478e271f3dd4c9d452fafb92c888e50',16384,8,1,X'29d060d3a7011cc45b1362db8c3cd7af66f8c3e7a90583a4b3f283894c92749e');
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
INSERT INTO keys VALUES(1,'k','7E9DDE6527788A2E159C54FB4500AFE1BCFCE6EC','ec:p256','soft','in use',X'3059301306072a8648ce3d020106082a8648ce3d03010703420004bc7f39e47d861fb91599b7776a75c06ad1e1623715ef747eb1d7b760182fef723ccf93e550cf721315cbe1966d575ee08cdc3be4a40fd1f1fbe5f0aa0335986c',X'3081ec305706092a864886f70d01050d304a302906092b06010401da47040b301c0410421893195cde43967f5631ee00d1af2902024000020108020101301d060960864801650304012a0410351b239a0ef05fc3b15510ea77156fdc048190e921fee194b496c690eb96b3c01475d6f61428dbe081bf76ed92d27490fc467143668dc59575c9efdc905c84d73a445518e1eea567de5fca2dbbd8242cb0ecf7dda76a5684655134d36d86c8d8f9974f0e55307cb5e7ddc52c295d4119fad71d58cbdacd6ebf7b13bf248a73061f259bb4c535b4a80361275b44fdaec46217dc9e74c087a129ef033029396d03fb7905',1795470409);
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
INSERT INTO cas VALUES(1,'R',1,'O=opencm test,CN=Old R',NULL,0,'active',X'308201ad30820153a0030201020210560fd757aae2800729b2a4bacba67385300a06082a8648ce3d040302302631143012060355040a0c0b6f70656e636d2074657374310e300c06035504030c054f6c642052301e170d3236313132333231343634395a170d3336313132333231343634395a302631143012060355040a0c0b6f70656e636d2074657374310e300c06035504030c054f6c6420523059301306072a8648ce3d020106082a8648ce3d03010703420004bc7f39e47d861fb91599b7776a75c06ad1e1623715ef747eb1d7b760182fef723ccf93e550cf721315cbe1966d575ee08cdc3be4a40fd1f1fbe5f0aa0335986ca3633061300f0603551d130101ff040530030101ff300e0603551d0f0101ff040403020106301d0603551d0e041604147e9dde6527788a2e159c54fb4500afe1bcfce6ec301f0603551d230418301680147e9dde6527788a2e159c54fb4500afe1bcfce6ec300a06082a8648ce3d0403020348003045022100c584ca6222470eba2fe3faeb0792d8da442b610d0a2420c2f7536f876b32cb8e022078e283003711c6c1deae961b13124b8a5f929b368898a95ad0b05acae3ca0277',NULL,NULL,'560FD757AAE2800729B2A4BACBA67385',1795470409,2111089609,NULL,86400,0,NULL,NULL,1795470409);
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
INSERT INTO procedures VALUES(1,'S',1,'server','digitalSignature,keyEncipherment','serverAuth','365d','sha256','none','rsa:2048,ec:p256,ec:p384,ec:p521,ed25519','',1795470409);
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
	der		BLOB NOT NULL, token_id INTEGER REFERENCES tokens(id), subject_id INTEGER REFERENCES subjects(id),
	UNIQUE (ca_id, serial)
) STRICT;
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
INSERT INTO counters VALUES('revocation event',0);
INSERT INTO counters VALUES('audit head',4);
CREATE TABLE changes (
	id		INTEGER PRIMARY KEY,
	type		TEXT NOT NULL,
	document	TEXT NOT NULL,
	digest		TEXT NOT NULL,
	state		TEXT NOT NULL CHECK (state IN ('pending', 'applied',
			    'rejected')),
	created		INTEGER NOT NULL,
	applied		INTEGER
, object TEXT, base INTEGER, reason TEXT, policy_digest TEXT) STRICT;
INSERT INTO changes VALUES(1,'key.create','<change xmlns="urn:opencm:change:1" type="key.create"><param name="name">k</param><param name="type">ec:p256</param><param name="device">soft</param></change>','DBA1EAE5F506F41DCE17B7FD16C9B951E1033C47B256F354DCA43050A2AB49A6','applied',1795470409,1795470409,'k',NULL,NULL,'6B2631C087C25C5D90094B23484D64BE0C67AA45EE1E206FE6BF0B02BE49ECF8');
INSERT INTO changes VALUES(2,'ca.create','<change xmlns="urn:opencm:change:1" type="ca.create"><param name="name">R</param><param name="key">k</param><param name="subject">O=opencm test,CN=Old R</param><param name="issuer">self-signed</param><param name="validity">10y</param><param name="crl-interval">24h</param><param name="delta-interval">0</param></change>','A065A556E5AC72F5405CD140530D35D8D54D2BF388C0626F8FE1B3877E944A65','applied',1795470409,1795470409,'R',NULL,NULL,'31BDF41F02E81392551F66356A52BCED1CD372D4FAD0C7646FFA7A10B4115D58');
INSERT INTO changes VALUES(3,'cert-procedure.create','<change xmlns="urn:opencm:change:1" type="cert-procedure.create"><param name="name">S</param><param name="ca">R</param><param name="format">server</param><param name="key-usage">digitalSignature,keyEncipherment</param><param name="eku">serverAuth</param><param name="validity">365d</param><param name="digest">sha256</param><param name="chain">none</param><param name="allow-keys">rsa:2048,ec:p256,ec:p384,ec:p521,ed25519</param><param name="fields"></param></change>','702B44BE62183F7E6AE71180A22B80DE10C61DEB59293F0EC50E3A8AF9D9F5FD','applied',1795470409,1795470409,'S',NULL,NULL,'6DC7FB0C7306F1A89EDB1DA4A38661622E18856DC656E82EFD006A005C173056');
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
INSERT INTO audit VALUES(1,1795470409,'cmctl:root','cmdb create','/tmp/upg/cm.db','ok','key store set up',X'0000000000000000000000000000000000000000000000000000000000000000',X'1e771964179bc0dacff73efde7e2bc47f096e83d5e0790750b232a40b523064d');
INSERT INTO audit VALUES(2,1795470409,'cmctl:root','key.create','k','ok','change 1 sha256:DBA1EAE5F506F41DCE17B7FD16C9B951E1033C47B256F354DCA43050A2AB49A6, policy sha256:6B2631C087C25C5D90094B23484D64BE0C67AA45EE1E206FE6BF0B02BE49ECF8',X'1e771964179bc0dacff73efde7e2bc47f096e83d5e0790750b232a40b523064d',X'50b37476ceb9b77982ae79bf0047cbcfe0793b75907a3c23f39741c203a1198e');
INSERT INTO audit VALUES(3,1795470409,'cmctl:root','ca.create','R','ok','change 2 sha256:A065A556E5AC72F5405CD140530D35D8D54D2BF388C0626F8FE1B3877E944A65, policy sha256:31BDF41F02E81392551F66356A52BCED1CD372D4FAD0C7646FFA7A10B4115D58',X'50b37476ceb9b77982ae79bf0047cbcfe0793b75907a3c23f39741c203a1198e',X'5c251840bd970794db11ec0089297c43678368c861bd895b082f8eb0e49b8b78');
INSERT INTO audit VALUES(4,1795470409,'cmctl:root','cert-procedure.create','S','ok','change 3 sha256:702B44BE62183F7E6AE71180A22B80DE10C61DEB59293F0EC50E3A8AF9D9F5FD, policy sha256:6DC7FB0C7306F1A89EDB1DA4A38661622E18856DC656E82EFD006A005C173056',X'5c251840bd970794db11ec0089297c43678368c861bd895b082f8eb0e49b8b78',X'5c946936a750f3c2a4e2871c609cc32cae49fc586c32f29f74c72df706bbc7b4');
CREATE TABLE subjects (
	id		INTEGER PRIMARY KEY,
	dn		TEXT NOT NULL UNIQUE,
	email		TEXT,
	san		TEXT,
	created		INTEGER NOT NULL
) STRICT;
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
CREATE TABLE tokens (
	id		INTEGER PRIMARY KEY,
	token_procedure_id INTEGER NOT NULL REFERENCES token_procedures(id),
	subject_id	INTEGER NOT NULL REFERENCES subjects(id),
	storage		TEXT NOT NULL,
	card_serial	TEXT,
	state		TEXT NOT NULL CHECK (state IN ('active', 'revoked')),
	created		INTEGER NOT NULL
) STRICT;
CREATE TABLE officer_profiles (
	id		INTEGER PRIMARY KEY,
	name		TEXT NOT NULL UNIQUE,
	permissions	TEXT NOT NULL,
	created		INTEGER NOT NULL
) STRICT;
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
CREATE TABLE change_signatures (
	id		INTEGER PRIMARY KEY,
	change_id	INTEGER NOT NULL REFERENCES changes(id),
	officer_id	INTEGER NOT NULL REFERENCES officers(id),
	cms		BLOB NOT NULL,
	signed		INTEGER NOT NULL,
	UNIQUE (change_id, officer_id)
) STRICT;
CREATE TABLE audit_checkpoints (
	id		INTEGER PRIMARY KEY,
	seq		INTEGER NOT NULL,
	hash		BLOB NOT NULL,
	time		INTEGER NOT NULL,
	key_identifier	TEXT NOT NULL,
	signature	BLOB NOT NULL
) STRICT;
CREATE INDEX certs_serial ON certs(serial);
CREATE INDEX certs_subject ON certs(subject);
CREATE INDEX certs_not_after ON certs(not_after);
CREATE INDEX certs_status ON certs(status, not_after);
CREATE UNIQUE INDEX revocations_active ON revocations(cert_id)
	WHERE released IS NULL;
CREATE INDEX revocations_ca ON revocations(ca_id, event);
CREATE INDEX audit_time ON audit(time);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
	SELECT RAISE(ABORT, 'audit records cannot be changed');
END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
	SELECT RAISE(ABORT, 'audit records cannot be deleted');
END;
CREATE INDEX tokens_subject ON tokens(subject_id);
CREATE INDEX certs_token ON certs(token_id);
CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN
	SELECT RAISE(ABORT, 'audit checkpoints cannot be changed');
END;
CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN
	SELECT RAISE(ABORT, 'audit checkpoints cannot be deleted');
END;
COMMIT;
PRAGMA user_version = 3;
PRAGMA application_id = 1329810756;
