-- The person a token is issued to and their title (chức vụ), as official
-- documents print them: the appraisal report's signature block names the
-- appraiser and the reviewer this way rather than by token name or id.
-- Empty for tokens issued before, and for tokens used by programs.

-- +goose Up
ALTER TABLE tokens
    ADD COLUMN person text NOT NULL DEFAULT '',
    ADD COLUMN title  text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE tokens DROP COLUMN title, DROP COLUMN person;
