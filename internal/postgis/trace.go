package postgis

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// statementTracer reports every statement's kind and time to observe (the
// server's metrics), through pgx's QueryTracer hooks.
type statementTracer struct {
	observe func(statement string, d time.Duration, err error)
}

type traceKey struct{}

type traceStart struct {
	kind  string
	start time.Time
}

func (t statementTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	return context.WithValue(ctx, traceKey{}, traceStart{kind: statementKind(data.SQL), start: time.Now()})
}

func (t statementTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryEndData) {
	if s, ok := ctx.Value(traceKey{}).(traceStart); ok {
		t.observe(s.kind, time.Since(s.start), data.Err)
	}
}

// statementKind is a statement's SQL command word (SELECT, INSERT, WITH,
// ...), upper case, skipping leading blanks and comments: a label with few
// values, whatever the SQL.
func statementKind(sql string) string {
	s := sql
	for {
		s = strings.TrimLeft(s, " \t\r\n(")
		switch {
		case strings.HasPrefix(s, "--"):
			if i := strings.IndexByte(s, '\n'); i >= 0 {
				s = s[i+1:]
				continue
			}
			return "OTHER"
		case strings.HasPrefix(s, "/*"):
			if i := strings.Index(s, "*/"); i >= 0 {
				s = s[i+2:]
				continue
			}
			return "OTHER"
		}
		break
	}
	end := strings.IndexFunc(s, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') })
	if end < 0 {
		end = len(s)
	}
	switch w := strings.ToUpper(s[:end]); w {
	case "SELECT", "INSERT", "UPDATE", "DELETE", "WITH", "COPY", "BEGIN", "COMMIT", "ROLLBACK", "SET", "LISTEN", "UNLISTEN", "NOTIFY", "LOCK", "CREATE", "DROP", "ALTER", "TRUNCATE", "VACUUM", "ANALYZE", "SAVEPOINT", "RELEASE", "SHOW":
		return w
	}
	return "OTHER"
}
