-- opencm CMDB, schema version 6: the publication queue.

-- What an event (a CRL issued, a certificate issued, a rule attached to a
-- CA) is to publish by each distribution rule, enqueued in the event's own
-- transaction so that nothing is lost.  One item per rule, kind and
-- object; target is the name it gets under the rule's URL.
CREATE TABLE publications (
	id		INTEGER PRIMARY KEY,
	rule_id		INTEGER NOT NULL REFERENCES dist_rules(id),
	kind		TEXT NOT NULL CHECK (kind IN ('crl', 'delta-crl',
			    'ca-cert', 'cert', 'cil')),
	ca_id		INTEGER NOT NULL REFERENCES cas(id),
	crl_number	INTEGER,
	cert_id		INTEGER REFERENCES certs(id),
	target		TEXT NOT NULL,
	state		TEXT NOT NULL CHECK (state IN ('pending', 'delivered',
			    'failed')),
	attempts	INTEGER NOT NULL DEFAULT 0,
	next_try	INTEGER NOT NULL,
	last_error	TEXT,
	created		INTEGER NOT NULL,
	delivered	INTEGER
) STRICT;
CREATE UNIQUE INDEX publications_item ON publications(rule_id, kind, ca_id,
    coalesce(crl_number, 0), coalesce(cert_id, 0));
CREATE INDEX publications_state ON publications(state, next_try);
