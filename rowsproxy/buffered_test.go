package rowsproxy

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/rows"
)

// seen is what the upstream was sent.
type seen struct {
	asked         bool
	body          []byte
	contentLength int64
	header        string
	readErr       error
}

func upstreamInto(s *seen) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		s.asked, s.contentLength, s.header = true, r.ContentLength, r.Header.Get("Content-Length")
		b, err := io.ReadAll(r.Body)
		s.body, s.readErr = b, err
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return nil
		}
		w.WriteHeader(http.StatusOK)
		return nil
	}
}

// padded is body after enough white space to be over 64 KiB: the same
// JSON, read the streaming way.
func padded(body string) string { return strings.Repeat(" ", bufferedMax) + body }

// A body under 64 KiB goes on whole, with its exact length; one over it
// still streams (no length). Both give the upstream the bytes the rewrite
// makes, and the same answer to a body refused: a record of another
// identity refused, a broken body answered 400, neither ever complete
// upstream (the short one never reaches it).
func TestServeBufferedAndStreamed(t *testing.T) {
	f, err := rows.New(map[string]string{"owner": "alice"})
	require.NoError(t, err)
	for _, big := range []bool{false, true} {
		body := `{"where":{"a":1},"query_embeddings":[[0.5,-1e-3]]}`
		if big {
			body = padded(body)
		}
		want, err := rows.RewriteBytes([]byte(body), rows.Where, f, nil)
		require.NoError(t, err)
		var s seen
		res, _ := serve(t, http.MethodPost, coll+"/query", body, http.Header{"Content-Length": {strconv.Itoa(len(body))}}, upstreamInto(&s))
		require.Equal(t, Served, res.Kind)
		assert.Equal(t, string(want), string(s.body), "big %v", big)
		if big {
			assert.EqualValues(t, -1, s.contentLength, "a body over 64 KiB streams")
			assert.Empty(t, s.header)
		} else {
			assert.EqualValues(t, len(want), s.contentLength)
			assert.Equal(t, strconv.Itoa(len(want)), s.header)
		}

		for _, c := range []struct {
			route, body string
			kind        Kind
			status      int
		}{
			{"/add", `{"ids":["x"],"metadatas":[{"owner":"bob"}]}`, Refuse, http.StatusForbidden},
			{"/get", `{"where":{"a":1}`, Answer, http.StatusBadRequest},
			{"/get", `{"where":{"a":1}} {}`, Answer, http.StatusBadRequest},
		} {
			body := c.body
			if big {
				body = padded(body)
			}
			var s seen
			res, _ := serve(t, http.MethodPost, coll+c.route, body, nil, upstreamInto(&s))
			require.Equal(t, c.kind, res.Kind, "%s big %v", c.body, big)
			assert.Equal(t, c.status, res.D.Status, "%s big %v", c.body, big)
			assert.False(t, s.asked && !big, "%s: a refusal found in memory reached the upstream", c.body)
			assert.False(t, s.asked && s.readErr == nil, "%s: a refused body reached the upstream whole", c.body)
		}
	}
}

// A write's ids go to the check before the upstream is asked, on the
// buffered path too, and a record of another identity is refused there.
func TestServeBufferedCheck(t *testing.T) {
	var gets int
	var s seen
	res, _ := serve(t, http.MethodPost, coll+"/update", `{"ids":["a"],"documents":["d"]}`, nil, func(w http.ResponseWriter, r *http.Request) error {
		if strings.HasSuffix(r.URL.Path, "/get") {
			gets++
			w.WriteHeader(http.StatusOK)
			_, err := w.Write([]byte(`{"ids":["a"],"metadatas":[{"owner":"bob"}]}`))
			return err
		}
		return upstreamInto(&s)(w, r)
	})
	require.Equal(t, Refuse, res.Kind)
	assert.Equal(t, rowsRefusedRecord, res.D.Reason)
	assert.Equal(t, 1, gets)
	assert.False(t, s.asked, "the update reached the upstream")
}

// writerFunc is an io.Writer of a function.
type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// The buffer of a body goes back to its pool only when nothing reads it:
// a Close while a write is under way (the transport's, to end it) waits
// for the write to end, never for the upstream; a read after Close fails
// rather than read what the buffer holds next.
func TestPooledBody(t *testing.T) {
	bp := bodyBufs.Get().(*[]byte)
	copy(*bp, "hello world")
	b := &pooledBody{parts: [][]byte{(*bp)[:5], []byte(" "), (*bp)[6:11]}, bp: bp}
	var got []byte
	n, err := b.WriteTo(writerFunc(func(p []byte) (int, error) {
		if len(got) == 0 {
			require.NoError(t, b.Close()) // the transport gives up mid-write
			assert.NotNil(t, b.bp, "the buffer went back to its pool while a write read it")
		}
		got = append(got, p...)
		return len(p), nil
	}))
	require.NoError(t, err)
	assert.EqualValues(t, 11, n)
	assert.Equal(t, "hello world", string(got))
	assert.Nil(t, b.bp, "the buffer was not handed back once the write ended")

	b = &pooledBody{parts: [][]byte{[]byte("abc")}, bp: bodyBufs.Get().(*[]byte)}
	p := make([]byte, 2)
	n2, err := b.Read(p)
	require.NoError(t, err)
	assert.Equal(t, "ab", string(p[:n2]))
	require.NoError(t, b.Close())
	_, err = b.Read(p)
	assert.True(t, errors.Is(err, errBodyClosed))
	_, err = b.WriteTo(io.Discard)
	assert.True(t, errors.Is(err, errBodyClosed))
	require.NoError(t, b.Close(), "a second Close is harmless")
}
