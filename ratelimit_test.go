package chromaauth

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestFailureLimiter(t *testing.T) {
	l := newFailureLimiter(3)
	now := time.Unix(1000, 0)
	for i := 0; i < 3; i++ {
		_, blocked := l.blocked("1.2.3.4", now)
		assert.False(t, blocked, "failure %d", i)
		l.fail("1.2.3.4", now)
	}
	wait, blocked := l.blocked("1.2.3.4", now)
	assert.True(t, blocked)
	assert.InDelta(t, 20*time.Second, wait, float64(time.Second), "one token back after a third of a minute")
	_, blocked = l.blocked("5.6.7.8", now)
	assert.False(t, blocked, "other clients are not affected")

	_, blocked = l.blocked("1.2.3.4", now.Add(21*time.Second))
	assert.False(t, blocked, "refilled")
	l.fail("1.2.3.4", now.Add(21*time.Second))
	_, blocked = l.blocked("1.2.3.4", now.Add(21*time.Second))
	assert.True(t, blocked)

	var off *failureLimiter = newFailureLimiter(0)
	off.fail("x", now)
	_, blocked = off.blocked("x", now)
	assert.False(t, blocked, "0 turns the limiter off")
}

func TestFailureLimiterMemoryIsBounded(t *testing.T) {
	l := newFailureLimiter(10)
	now := time.Unix(1000, 0)
	for i := 0; i < maxTrackedClients+5000; i++ {
		l.fail(fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), now)
	}
	assert.LessOrEqual(t, l.size(), maxTrackedClients)
}
