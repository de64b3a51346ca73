package providers

import (
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWatchSeesInPlaceWritesAndRenames(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "tokens.txt")
	require.NoError(t, os.WriteFile(path, []byte("a\n"), 0o600))
	var calls, looks atomic.Int32
	stop := watch([]string{path}, 10*time.Millisecond, func() { calls.Add(1) }, func() { looks.Add(1) })
	defer stop()

	// Not a sleep: three looks at the unchanged file, then no call.
	require.Eventually(t, func() bool { return looks.Load() >= 3 }, 10*time.Second, time.Millisecond)
	assert.Equal(t, int32(0), calls.Load(), "no change, no call")

	require.NoError(t, os.WriteFile(path, []byte("ab\n"), 0o600))
	assert.Eventually(t, func() bool { return calls.Load() == 1 }, 5*time.Second, 5*time.Millisecond)

	tmp := filepath.Join(dir, "tokens.tmp")
	require.NoError(t, os.WriteFile(tmp, []byte("ab\n"), 0o600))
	require.NoError(t, os.Rename(tmp, path))
	assert.Eventually(t, func() bool { return calls.Load() == 2 }, 5*time.Second, 5*time.Millisecond, "replaced by rename")

	require.NoError(t, os.Remove(path))
	assert.Eventually(t, func() bool { return calls.Load() == 3 }, 5*time.Second, 5*time.Millisecond, "removed")
}
