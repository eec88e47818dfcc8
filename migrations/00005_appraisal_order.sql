-- Appraisals are listed newest first. created_at is the creating
-- transaction's start time, which two appraisals can share; seq breaks such
-- ties in insertion order.

-- +goose Up
ALTER TABLE appraisals ADD COLUMN seq bigserial;
DROP INDEX appraisals_created_idx;
CREATE INDEX appraisals_created_idx ON appraisals (created_at DESC, seq DESC);

-- +goose Down
DROP INDEX appraisals_created_idx;
ALTER TABLE appraisals DROP COLUMN seq;
CREATE INDEX appraisals_created_idx ON appraisals (created_at DESC, id DESC);
