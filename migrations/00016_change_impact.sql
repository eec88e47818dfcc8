-- Change impact (package impact): an appraisal's latest check may be made
-- stale by a change of the defence data or of the rule set. The marks are
-- kept by reader clearance (index 1 public .. 4 secret), like the views of
-- a check: a reader is told only of changes its own check can show
-- (zone/impact.go). stale_gen counts the marks, so a background re-check
-- written after a newer mark leaves it pending.
--
-- A background re-check record is shown only to the readers in shown
-- (NULL: every reader, as for records people make), with each reader's
-- reason and diff (against the record before).

-- +goose Up
ALTER TABLE appraisals
    ADD COLUMN stale_reasons text[] NOT NULL DEFAULT '{NULL,NULL,NULL,NULL}',
    ADD COLUMN stale_since timestamptz[] NOT NULL DEFAULT '{NULL,NULL,NULL,NULL}',
    ADD COLUMN stale_rechecked boolean[] NOT NULL DEFAULT '{false,false,false,false}',
    ADD COLUMN stale_worse boolean[] NOT NULL DEFAULT '{false,false,false,false}',
    ADD COLUMN stale_gen bigint NOT NULL DEFAULT 0,
    ADD COLUMN recheck_pending boolean NOT NULL DEFAULT false;

-- The re-check queue: appraisals with a mark not yet re-checked.
CREATE INDEX appraisals_recheck_idx ON appraisals (seq) WHERE recheck_pending;

ALTER TABLE check_records
    ADD COLUMN recheck boolean NOT NULL DEFAULT false,
    ADD COLUMN shown boolean[],
    ADD COLUMN reasons text[],
    ADD COLUMN diffs json[];

-- +goose Down
ALTER TABLE check_records DROP COLUMN recheck, DROP COLUMN shown, DROP COLUMN reasons, DROP COLUMN diffs;
DROP INDEX appraisals_recheck_idx;
ALTER TABLE appraisals DROP COLUMN stale_reasons, DROP COLUMN stale_since, DROP COLUMN stale_rechecked,
    DROP COLUMN stale_worse, DROP COLUMN stale_gen, DROP COLUMN recheck_pending;
