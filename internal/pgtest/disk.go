//go:build unix

package pgtest

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// SmallDisk mounts a tmpfs of mb MiB on a new temporary folder and returns
// the folder, for a test that fills a disk (an embedded store's, say). It is
// unmounted and removed when the test ends. It needs root on Linux;
// otherwise the test is Unavailable (fails under CI=true).
func SmallDisk(tb testing.TB, mb int) string {
	tb.Helper()
	if err := platformSupported(); err != nil {
		Unavailable(tb, "a tmpfs disk: %v", err)
	}
	if os.Geteuid() != 0 {
		Unavailable(tb, "root, to mount a tmpfs of %d MiB", mb)
	}
	dir, err := os.MkdirTemp("", "pgtest-disk-")
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	if err := mountTmpfs(dir, mb, os.Getuid(), os.Getgid()); err != nil {
		os.Remove(dir)
		Unavailable(tb, "a tmpfs mount (needs root with CAP_SYS_ADMIN): %v", err)
	}
	tb.Cleanup(func() {
		if err := unmount(dir); err != nil {
			tb.Errorf("pgtest: unmount %s: %v", dir, err)
			return
		}
		os.RemoveAll(dir)
	})
	return dir
}

// FillDisk writes a file into dir until its disk is full, then gives back
// leave bytes; it returns the file's path.
func FillDisk(tb testing.TB, dir string, leave int64) string {
	tb.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 64<<10)
	var n int64
	for {
		m, err := f.Write(chunk)
		n += int64(m)
		if errors.Is(err, syscall.ENOSPC) {
			break
		}
		if err != nil {
			tb.Fatal(err)
		}
	}
	if err := f.Truncate(max(n-leave, 0)); err != nil {
		tb.Fatal(err)
	}
	return path
}
