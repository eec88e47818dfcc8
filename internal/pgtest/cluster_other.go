//go:build unix && !linux

package pgtest

import (
	"errors"
	"syscall"
	"testing"
)

// Clusters need Linux: /proc to find a server's processes, tmpfs mounts and
// a parent-death signal. Elsewhere StartCluster reports them Unavailable.

var errLinuxOnly = errors.New("only supported on Linux")

func platformSupported() error { return errLinuxOnly }

func sysProcAttr(cred *syscall.Credential, pdeath bool) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred}
}

func mountTmpfs(dir string, mb, uid, gid int) error { return errLinuxOnly }
func unmount(dir string) error                      { return errLinuxOnly }
func isMounted(dir string) bool                     { return false }
func writeOwner(root string) error                  { return errLinuxOnly }
func reapStale(tb testing.TB)                       {}

type procID struct {
	pid   int
	start uint64
}

type procInfo struct{ procID }

func (p procID) alive() bool                { return false }
func descendants(root int) []procInfo       { return nil }
func freezeTree(root int) ([]procID, error) { return nil, errLinuxOnly }
