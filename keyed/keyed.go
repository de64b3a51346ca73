// Package keyed names a secret (a token, a password) by a keyed digest,
// so that what the process remembers of a credential is never the
// credential, and nobody outside the process can compute or aim at a
// digest: the keys are made at random by New and never leave it.
//
// The digest is hash-then-encrypt (Carter–Wegman, Shoup): GHASH, an
// almost-universal hash under a secret key (computed as AES-GCM's tag of
// the message as additional data, under a fixed nonce), then AES under a
// second key. Like HMAC it is a pseudorandom function of the message, and
// a chance collision of two 128-bit digests is out of reach; unlike
// SHA-256 it runs on the CPU's AES and carry-less multiply instructions,
// the same ones a TLS connection uses, so a digest of a 600-byte JWT
// costs a fraction of a SHA-256 pass (and under valgrind, which has no
// SHA instructions, a few hundred instructions instead of twenty
// thousand). It allocates nothing.
//
// In FIPS 140-only mode (GODEBUG=fips140=only), where GCM under a caller's
// nonce is refused, it is HMAC-SHA256, truncated to 128 bits.
package keyed

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"hash"
	"sync"
)

// Size is the length of a digest.
const Size = 16

// Digest is the keyed digest of a message.
type Digest [Size]byte

// maxPooled bounds the scratch buffer a pool keeps (longer messages get
// one of their own, once).
const maxPooled = 4096

// Hash computes digests under its keys. It is safe for concurrent use.
type Hash struct {
	gcm     cipher.AEAD  // GHASH under its key, masked
	out     cipher.Block // the second key
	scratch sync.Pool    // of *scratch
}

type scratch struct {
	msg []byte
	tag []byte
	mac hash.Hash // the FIPS 140-only fallback
}

var nonce [12]byte // fixed: the tag is only ever the input of the second AES, never seen

// New is a Hash under keys made at random; it panics when the system has
// no randomness (nothing else could be done safely).
func New() *Hash {
	var k [32]byte
	if _, err := rand.Read(k[:]); err != nil {
		panic("keyed: no randomness for the key: " + err.Error())
	}
	return NewWithKey(k)
}

// NewWithKey is a Hash under key: the first half keys GHASH, the second
// the AES that follows (tests).
func NewWithKey(key [32]byte) *Hash {
	h := &Hash{}
	b1, err1 := aes.NewCipher(key[:16])
	b2, err2 := aes.NewCipher(key[16:])
	if err1 != nil || err2 != nil {
		panic("keyed: a 16-byte AES key refused") // never: the length is right
	}
	h.out = b2
	if g, err := cipher.NewGCM(b1); err == nil {
		h.gcm = g
	}
	h.scratch.New = func() any {
		s := &scratch{tag: make([]byte, 0, 16+Size)}
		if h.gcm == nil {
			s.mac = hmac.New(sha256.New, key[:])
		}
		return s
	}
	return h
}

// Sum is the digest of the parts, one after the other. The caller makes
// the encoding unambiguous (a kind byte first, a separator no part holds).
func (h *Hash) Sum(parts ...string) Digest {
	s := h.scratch.Get().(*scratch)
	s.msg = s.msg[:0]
	for _, p := range parts {
		s.msg = append(s.msg, p...)
	}
	var d Digest
	if h.gcm != nil {
		s.tag = h.gcm.Seal(s.tag[:0], nonce[:], nil, s.msg)
		h.out.Encrypt(s.tag[:Size], s.tag[:Size])
	} else {
		s.mac.Reset()
		s.mac.Write(s.msg)
		s.tag = s.mac.Sum(s.tag[:0])
	}
	copy(d[:], s.tag)
	clear(s.msg) // nothing of a credential stays behind in the pool
	if cap(s.msg) <= maxPooled {
		h.scratch.Put(s)
	}
	return d
}
