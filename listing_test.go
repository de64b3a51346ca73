package chromaauth

import (
	"testing"
	"time"
)

// A database whose listing failed is reported as such until it may be
// listed again, so a by-id request is answered 503 (retry), not 403.
func TestListingLimiterRemembersFailure(t *testing.T) {
	var l listingLimiter
	now := time.Now()
	if ok, _ := l.allow("t\x00d", now); !ok {
		t.Fatal("first listing refused")
	}
	if ok, failed := l.allow("t\x00d", now.Add(time.Second)); ok || failed {
		t.Fatalf("within the interval after a good listing: allowed %v, failed %v", ok, failed)
	}
	l.fail("t\x00d")
	if ok, failed := l.allow("t\x00d", now.Add(time.Second)); ok || !failed {
		t.Fatalf("within the interval after a failed listing: allowed %v, failed %v", ok, failed)
	}
	if ok, failed := l.allow("t\x00d", now.Add(relistInterval)); !ok || failed {
		t.Fatalf("after the interval: allowed %v, failed %v", ok, failed)
	}
	if ok, failed := l.allow("t\x00d", now.Add(relistInterval+time.Second)); ok || failed {
		t.Fatalf("a new listing clears the failure: allowed %v, failed %v", ok, failed)
	}
}
