package jwtauth

import (
	"errors"
	"net/url"
)

// Redacted replaces the secret parts of a URL in logs and errors.
const Redacted = "REDACTED"

// RedactURL is u fit for a log line or an error: its user-info (a user
// and password) and its query (`?api_key=…`) are replaced by REDACTED, its
// fragment dropped. A string that does not parse as a URL is not shown at
// all: it could be anything.
func RedactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(a URL that does not parse)"
	}
	if p.User != nil {
		p.User = url.User(Redacted)
	}
	if p.RawQuery != "" || p.ForceQuery {
		p.RawQuery, p.ForceQuery = Redacted, false
	}
	p.Fragment, p.RawFragment = "", ""
	return p.String()
}

// redactErr is err without the URL net/http's errors quote whole (a
// *url.Error's message holds its URL as given).
func redactErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return errors.New(ue.Op + " " + RedactURL(ue.URL) + ": " + ue.Err.Error())
	}
	return err
}
