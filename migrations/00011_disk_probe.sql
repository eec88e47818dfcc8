-- The disk probe's table (postgis.probeDisk). While a write has found the
-- disk full, the prober tries, in a transaction it rolls back, TRUNCATE
-- disk_probe (a new, empty file) and one INSERT, which must extend that
-- file by a page: it fails with 53100 while the tablespace is full. The
-- table stays empty; it lives in the components' tablespace, whose room is
-- what writes need. It replaces a table created and dropped by every probe,
-- which left a dozen dead catalog rows behind each second of a full disk.

-- +goose Up
CREATE TABLE disk_probe (b int);

-- +goose StatementBegin
DO $$
BEGIN
    EXECUTE format('ALTER TABLE disk_probe SET TABLESPACE %I', (
        SELECT spcname FROM pg_tablespace WHERE oid = (
            SELECT coalesce(nullif(c.reltablespace, 0), d.dattablespace)
            FROM pg_class c, pg_database d
            WHERE c.oid = 'components'::regclass AND d.datname = current_database())));
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP TABLE disk_probe;
