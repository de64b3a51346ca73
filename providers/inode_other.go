//go:build !unix

package providers

import "os"

// inode is not available here; size and modification time still tell most
// changes apart.
func inode(os.FileInfo) uint64 { return 0 }
