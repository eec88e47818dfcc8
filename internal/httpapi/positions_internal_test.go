package httpapi

import (
	"bytes"
	"encoding/base64"
	"testing"

	"github.com/google/uuid"
)

// TestSealedPositions: a sealed position opens only for the token it was
// sealed for, under the same key, unaltered; two seals of one position
// differ, and every seal has one length whatever the position.
func TestSealedPositions(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	s, err := newPositionSealer(key)
	if err != nil {
		t.Fatal(err)
	}
	mine, theirs := uuid.New(), uuid.New()
	a, _ := s.seal(mine, 0x16B3748)
	b, _ := s.seal(mine, 0x16B3748)
	far, _ := s.seal(mine, 0xFFFF_0000_1234_5678)
	if a == b {
		t.Errorf("two seals of one position are equal (%s): comparable", a)
	}
	if len(a) != len(far) || len(a) != 48 {
		t.Errorf("seal lengths %d and %d, want 48 whatever the position", len(a), len(far))
	}
	if p, ok := s.open(mine, a); !ok || p != 0x16B3748 {
		t.Errorf("open for its own token: %x %v", p, ok)
	}
	if p, ok := s.open(mine, far); !ok || p != 0xFFFF_0000_1234_5678 {
		t.Errorf("open a far position: %x %v", p, ok)
	}
	if _, ok := s.open(theirs, a); ok {
		t.Error("a position opened for another token")
	}
	other, _ := newPositionSealer(bytes.Repeat([]byte{8}, 32))
	if _, ok := other.open(mine, a); ok {
		t.Error("a position opened under another key")
	}
	raw, _ := base64.RawURLEncoding.DecodeString(a)
	for i := range raw {
		altered := bytes.Clone(raw)
		altered[i] ^= 1
		if _, ok := s.open(mine, base64.RawURLEncoding.EncodeToString(altered)); ok {
			t.Fatalf("a position altered at byte %d opened", i)
		}
	}
	for _, junk := range []string{"", "0/16B3748", "not-a-position", a[:47], a + "A"} {
		if _, ok := s.open(mine, junk); ok {
			t.Errorf("%q opened", junk)
		}
	}
	if _, err := newPositionSealer(key[:31]); err == nil {
		t.Error("a 31-byte key was taken")
	}
}
