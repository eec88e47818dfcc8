package embedded

import (
	"context"

	"github.com/google/uuid"

	"github.com/zoneplan/zoneplan/internal/zone"
)

// WatchRevocations returns a channel that receives the id of every token
// revoked after it returns. Only this process writes the file, so every
// revocation passes through here. A watcher that falls revocationBuffer
// behind has its channel closed: it may have missed one.
func (s *Store) WatchRevocations(ctx context.Context) (<-chan uuid.UUID, error) {
	ch, ok := s.revoked.subscribe(ctx)
	if !ok {
		return nil, zone.Errorf(zone.CodeUnavailable, "the embedded store is closed")
	}
	return ch, nil
}

// revocationBuffer is how many revocations a watcher may have pending.
const revocationBuffer = 64
