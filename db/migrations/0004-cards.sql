-- opencm CMDB, schema version 4: smart cards.

-- The card serial number ranges a token procedure accepts: "FROM-TO" pairs
-- separated by commas (NULL: none registered).
ALTER TABLE token_procedures ADD COLUMN serial_ranges TEXT;

-- A smart card opencm initialized: its serial number (unique among the
-- cards of one model), and its SO PIN sealed under the key store (PBES2,
-- never in clear), which unblocks the user PIN.  A personalized card
-- belongs to one token; a revoked card's token is revoked.
CREATE TABLE cards (
	id		INTEGER PRIMARY KEY,
	serial		TEXT NOT NULL,
	model		TEXT NOT NULL,
	manufacturer	TEXT NOT NULL,
	label		TEXT NOT NULL,
	so_pin		BLOB NOT NULL,
	state		TEXT NOT NULL CHECK (state IN ('initialized',
			    'personalized', 'revoked')),
	token_id	INTEGER REFERENCES tokens(id),
	replaces	INTEGER REFERENCES cards(id),
	created		INTEGER NOT NULL,
	UNIQUE (manufacturer, model, serial)
) STRICT;
CREATE INDEX cards_token ON cards(token_id);
