package httpapi

// Sealed log positions (PositionHeader).
//
// A raw log position (an LSN) counts the bytes every writer put in the
// primary's log: two of a caller's writes would tell it how much others
// wrote in between, secret edits included, and how large its own stored
// check was. So a position leaves the server only sealed: AES-256-GCM with
// a random nonce under a key shared by every instance of the deployment
// (Deps.PositionKey; cmd/zoneplan reads it from the database, migration
// 00013), with the caller's token id as associated data. A client sees a
// constant-length random string: not readable, not comparable with another
// (two seals of one position differ), and refused (400) when sent with any
// token but the one it was issued to, or altered.

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"

	"github.com/google/uuid"
)

// positionDomain separates the position key's use from any other use of
// the same secret, and versions the sealed form.
const positionDomain = "zoneplan position v1"

// positionSealer seals and opens log positions for one token.
type positionSealer struct{ aead cipher.AEAD }

// newPositionSealer derives the AES key from the deployment's secret
// (at least 32 bytes).
func newPositionSealer(secret []byte) (*positionSealer, error) {
	if len(secret) < 32 {
		return nil, errors.New("the position key is shorter than 32 bytes")
	}
	h := sha256.New()
	h.Write([]byte(positionDomain))
	h.Write(secret)
	block, err := aes.NewCipher(h.Sum(nil))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &positionSealer{aead: aead}, nil
}

// associated binds a sealed position to the token it is issued to.
func associated(token uuid.UUID) []byte {
	return append([]byte(positionDomain), token[:]...)
}

// seal returns position sealed for token: base64url of nonce, ciphertext
// and tag (48 characters whatever the position).
func (s *positionSealer) seal(token uuid.UUID, position uint64) (string, error) {
	out := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+8+s.aead.Overhead())
	if _, err := rand.Read(out); err != nil {
		return "", err
	}
	var plain [8]byte
	binary.BigEndian.PutUint64(plain[:], position)
	out = s.aead.Seal(out, out, plain[:], associated(token))
	return base64.RawURLEncoding.EncodeToString(out), nil
}

// open returns the position sealed in v for token; false when v is not a
// position this deployment sealed for token (garbage, altered, another
// token's).
func (s *positionSealer) open(token uuid.UUID, v string) (uint64, bool) {
	raw, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(raw) != s.aead.NonceSize()+8+s.aead.Overhead() {
		return 0, false
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, raw[:n], raw[n:], associated(token))
	if err != nil || len(plain) != 8 {
		return 0, false
	}
	return binary.BigEndian.Uint64(plain), true
}
