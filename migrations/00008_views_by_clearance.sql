-- A check is kept as every clearance sees it (check.Record): the full
-- result stays in check_records.result, and the views for public, internal
-- and restricted readers are columns of their own, so that reading one
-- reader's view reads nothing of what is hidden from it. verdicts holds the
-- verdict by clearance (index 1 public .. 4 secret).
--
-- Records written before this migration have no views: the store returns
-- their full result for the application to redact. An appraisal without
-- verdicts (written before, or by another tool) shows a reader below secret
-- 'review' for any verdict but 'clear' (the referral such a reader would
-- get), never a conflict whose cause it may not know.

-- +goose Up
ALTER TABLE check_records
    ADD COLUMN verdicts text[],
    ADD COLUMN view_public json,
    ADD COLUMN view_internal json,
    ADD COLUMN view_restricted json;

ALTER TABLE appraisals ADD COLUMN verdicts text[],
    ADD CONSTRAINT appraisals_verdicts_check CHECK (verdicts IS NULL OR array_length(verdicts, 1) = 4);

-- +goose Down
ALTER TABLE appraisals DROP COLUMN verdicts;
ALTER TABLE check_records DROP COLUMN verdicts, DROP COLUMN view_public, DROP COLUMN view_internal, DROP COLUMN view_restricted;
