package rows

import "bytes"

// indexStopBytes is indexStop by two IndexByte scans: the first ']', then
// a '"' before it.
func indexStopBytes(b []byte) int {
	i := bytes.IndexByte(b, ']')
	if i < 0 {
		i = len(b)
	}
	if j := bytes.IndexByte(b[:i], '"'); j >= 0 {
		return j
	}
	if i == len(b) {
		return -1
	}
	return i
}
