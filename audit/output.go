package audit

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// Output writes the audit's lines to a log writer of its own (`audit {
// output file … }`), one write per line, each line the bytes Caddy's
// `format json` would write for it: what Caddy's logging costs a line
// (its entry, its encoder, the log's filters) is left out, and so are its
// routing, sampling and formats. The writer is any Caddy log writer
// module (caddy.logging.writers: file with its rolling, net, stdout,
// stderr, discard), opened as Caddy opens a log's and shared alike: a
// config reload that keeps the same output keeps the same open file.
type Output struct {
	w   io.Writer
	key string // the writer's key in writers
	// now stamps a line when it is decided (a test's clock).
	now func() time.Time
	// errLog hears of a line the writer failed to take.
	errLog *zap.Logger
}

// writers are the audit outputs open in this process, by their writer
// key: a reload's new handler takes its predecessor's before that one
// lets go of it (Caddy's logs keep their writers the same way).
var writers = caddy.NewUsagePool()

// OpenOutput opens c's output, or returns nil when c has none (the lines
// go to the audit's logger). errLog is where a failed write is told.
func OpenOutput(ctx caddy.Context, c *Config, errLog *zap.Logger) (*Output, error) {
	if c == nil || len(c.WriterRaw) == 0 {
		return nil, nil
	}
	mod, err := ctx.LoadModule(c, "WriterRaw")
	if err != nil {
		return nil, fmt.Errorf("chroma_auth: audit: output: %w", err)
	}
	opener, ok := mod.(caddy.WriterOpener)
	if !ok {
		return nil, fmt.Errorf("chroma_auth: audit: output: module %T is not a log writer", mod)
	}
	key := "chroma_auth.audit:" + opener.WriterKey()
	w, _, err := writers.LoadOrNew(key, func() (caddy.Destructor, error) {
		w, err := opener.OpenWriter()
		return &sharedWriter{w: w}, err
	})
	if err != nil {
		return nil, fmt.Errorf("chroma_auth: audit: output %s: %w", opener, err)
	}
	return &Output{w: w.(*sharedWriter), key: key, now: time.Now, errLog: errLog}, nil
}

// NewOutput is an output to w, stamping each line with now when it is
// decided, telling errLog of a failed write: a test's writer and clock.
// Close does not close w.
func NewOutput(w io.Writer, now func() time.Time, errLog *zap.Logger) *Output {
	return &Output{w: w, now: now, errLog: errLog}
}

// Close lets go of the output's writer; the last to let go closes it.
// An output made by NewOutput holds no writer of the pool: nothing to do.
func (o *Output) Close() error {
	if o == nil {
		return nil
	}
	_, err := writers.Delete(o.key)
	return err
}

// linePool holds the buffers lines are encoded into: a line is written
// by one Write call, and the writer (Caddy's, like zap's sinks) keeps
// nothing of it.
var linePool = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// write writes l's line, decided at ts.
func (o *Output) write(ts time.Time, l *lineObject) {
	p := linePool.Get().(*[]byte)
	*p = appendLine((*p)[:0], ts, l)
	if _, err := o.w.Write(*p); err != nil && o.errLog != nil {
		o.errLog.Error("audit line not written", zap.String("output", o.key), zap.Error(err))
	}
	if cap(*p) <= 64<<10 {
		linePool.Put(p)
	}
}

// sharedWriter is an output's writer, shared by the handlers (a reload's
// old and new) that name it, and closed once by the last to let go. A
// line still to be written after that (one waiting for its collection's
// name) is refused, not written: Caddy's rolling file writer would open
// the file again, for no one to close.
type sharedWriter struct {
	mu     sync.RWMutex // held for reading by each write, for writing by the close
	w      io.WriteCloser
	closed bool
}

var errOutputClosed = errors.New("the audit output is closed (its config was unloaded)")

func (s *sharedWriter) Write(p []byte) (int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return 0, errOutputClosed
	}
	return s.w.Write(p)
}

func (s *sharedWriter) Destruct() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return s.w.Close()
}

// parseOutput reads `output <writer> [args] [{ … }]` as Caddy's `log`
// directive reads its own output: the dispenser is on `output`.
func parseOutput(d *caddyfile.Dispenser, c *Config) error {
	if c.WriterRaw != nil {
		return d.Errf("chroma_auth: audit: output given twice")
	}
	if !d.NextArg() {
		return d.Errf("chroma_auth: audit: output needs a log writer (output file <path>, output stdout…)")
	}
	name := d.Val()
	var wo caddy.WriterOpener
	switch name { // Caddy's own writers have no Caddyfile parser (see Caddy's log directive)
	case "stdout", "stderr", "discard":
		if d.NextArg() {
			return d.ArgErr()
		}
	}
	switch name {
	case "stdout":
		wo = caddy.StdoutWriter{}
	case "stderr":
		wo = caddy.StderrWriter{}
	case "discard":
		wo = caddy.DiscardWriter{}
	default:
		unm, err := caddyfile.UnmarshalModule(d, "caddy.logging.writers."+name)
		if err != nil {
			return fmt.Errorf("chroma_auth: audit: output: %w", err)
		}
		if wo, _ = unm.(caddy.WriterOpener); wo == nil {
			return d.Errf("chroma_auth: audit: output %s is not a log writer", name)
		}
	}
	var warnings []caddyconfig.Warning
	c.WriterRaw = caddyconfig.JSONModuleObject(wo, "output", name, &warnings)
	if len(warnings) > 0 {
		return d.Errf("chroma_auth: audit: output %s: %s", name, warnings[0].Message)
	}
	return nil
}
