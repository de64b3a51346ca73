package providers

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// someGoroutine reports whether a goroutine's stack holds every one of
// the given frames.
func someGoroutine(frames ...string) bool {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for _, g := range strings.Split(string(buf), "\n\n") {
		all := true
		for _, f := range frames {
			all = all && strings.Contains(g, f)
		}
		if all {
			return true
		}
	}
	return false
}

// A check that joined another request's bcrypt flight, whose client then
// went away, runs its own check instead of taking the other's
// cancellation as its answer: a valid user is not refused because
// someone else hung up (authenticator.go:132).
func TestCheckBasicJoinerOfACancelledFlightChecksAgain(t *testing.T) {
	a, _ := newBasic(t, bcryptLine(t, "alice", "pw"))
	a2 := NewAuthenticator(a.Credentials(), Options{MaxConcurrentBcrypt: 1, BcryptQueueTimeout: time.Minute})
	a2.slots <- struct{}{} // the only slot is taken: the leader waits for it
	leaderCtx, cancel := context.WithCancel(context.Background())
	defer cancel()
	leader := make(chan error, 1)
	go func() {
		_, err := a2.CheckBasic(leaderCtx, a2.Credentials(), "alice", "pw")
		leader <- err
	}()
	waitFor := func(what string, frames ...string) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); !someGoroutine(frames...); time.Sleep(time.Millisecond) {
			require.True(t, time.Now().Before(deadline), what)
		}
	}
	waitFor("the leader never waited for the slot", "(*Authenticator).verify(")
	type answer struct {
		id  *Identity
		err error
	}
	joiner := make(chan answer, 1)
	go func() {
		id, err := a2.CheckBasic(context.Background(), a2.Credentials(), "alice", "pw")
		joiner <- answer{id, err}
	}()
	waitFor("the second check never joined the leader's flight", "singleflight.(*Group).Do(", "sync.(*WaitGroup).Wait(")

	cancel()
	require.ErrorIs(t, <-leader, context.Canceled, "the leader's own client went away")
	<-a2.slots // the slot comes free
	got := <-joiner
	require.NoError(t, got.err, "the joiner checks again")
	assert.Equal(t, "alice", got.id.User)
}
