package postgis

import (
	"context"
	"errors"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/zoneplan/zoneplan/internal/zone"
)

// ActiveRuleSet returns the latest saved rule set, not found when none was
// ever saved.
func (s *Store) ActiveRuleSet(ctx context.Context) (_ string, _ []byte, err error) {
	ctx, end, err := s.call(ctx, "read the rule set")
	if err != nil {
		return "", nil, err
	}
	defer end(&err)
	var version, doc string
	err = s.pool.QueryRow(ctx, `SELECT version, doc FROM rule_sets ORDER BY seq DESC LIMIT 1`).Scan(&version, &doc)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil, zone.Errorf(zone.CodeNotFound, "no rule set was saved")
	}
	if err != nil {
		return "", nil, dbError(err, "read the rule set")
	}
	return version, []byte(doc), nil
}

// SaveRuleSet stores a rule set document (UTF-8 text) and makes it active;
// a version saved before is a conflict.
func (s *Store) SaveRuleSet(ctx context.Context, version string, doc []byte, by string) (err error) {
	switch {
	case version == "":
		return zone.Errorf(zone.CodeInvalid, "rule set has no version")
	case !utf8.Valid(doc) || containsNUL(doc):
		return zone.Errorf(zone.CodeInvalid, "rule set document is not UTF-8 text")
	}
	ctx, end, err := s.call(ctx, "save the rule set")
	if err != nil {
		return err
	}
	defer end(&err)
	_, err = s.pool.Exec(ctx, `INSERT INTO rule_sets (version, doc, created_by) VALUES ($1, $2, $3)`, version, string(doc), by)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == sqlUniqueViolation {
		return &zone.Error{Code: zone.CodeConflict, Message: "rule set version " + version + " was saved before", Err: err}
	}
	return dbError(err, "save the rule set")
}

func containsNUL(b []byte) bool {
	for _, c := range b {
		if c == 0 {
			return true
		}
	}
	return false
}
