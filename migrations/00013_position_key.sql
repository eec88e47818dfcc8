-- The key that seals Zoneplan-Position values (internal/httpapi's
-- positions.go): a write instance returns the log position after a write
-- sealed with it (AES-GCM, bound to the caller's token), and a read
-- instance opens it. One random key made once here on the primary; the
-- table replicates, so every write and read instance on the primary and
-- its standbys shares it without configuration. Only the server reads it;
-- no API serves it. gen_random_uuid() draws from PostgreSQL's strong
-- random source (pg_strong_random): two give 244 random bits, which the
-- server hashes into the AES key.

-- +goose Up
CREATE TABLE position_key (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    key bytea NOT NULL CHECK (length(key) >= 32)
);
INSERT INTO position_key (key) VALUES (uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()));

-- +goose Down
DROP TABLE position_key;
