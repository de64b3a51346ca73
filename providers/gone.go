package providers

// WithoutGone is s without the credential files gone reports gone, and
// the list of those files: what a file that is gone held is revoked, not
// kept. A gone users file takes the htpasswd users with it (they had
// their tenant, databases and role from it, and would otherwise reach
// everything), and its tokens. With anything gone, a set left with no
// credentials at all is no error: it lets nobody in.
func (s Sources) WithoutGone(gone func(path string) bool) (Sources, []string) {
	var out []string
	usersGone := ""
	if s.UsersFile != "" && gone(s.UsersFile) {
		usersGone = s.UsersFile
		out = append(out, s.UsersFile)
		if s.HtpasswdFile != "" && !gone(s.HtpasswdFile) {
			s.HtpasswdFile = "" // its users' identities went with the users file
		}
		s.UsersFile = ""
	}
	if s.HtpasswdFile != "" && gone(s.HtpasswdFile) {
		out = append(out, s.HtpasswdFile)
		s.HtpasswdFile = ""
	}
	var files []string
	for _, f := range s.TokenFiles {
		if gone(f) {
			if f != usersGone { // the users file, named twice, is listed once
				out = append(out, f)
			}
			continue
		}
		files = append(files, f)
	}
	s.TokenFiles = files
	if s.KeysFile != "" && gone(s.KeysFile) {
		out = append(out, s.KeysFile)
		s.KeysFile = ""
	}
	if len(out) > 0 {
		s.Elsewhere = true
	}
	return s, out
}
