//go:build linux

package pgtest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func platformSupported() error { return nil }

// sysProcAttr runs a child with cred (nil: as we are) in its own process
// group, so a terminal's ^C reaches only the test binary; with pdeath the
// child is SIGKILLed when the test binary's thread that started it ends.
func sysProcAttr(cred *syscall.Credential, pdeath bool) *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Credential: cred, Setpgid: true}
	if pdeath {
		a.Pdeathsig = syscall.SIGKILL
	}
	return a
}

func mountTmpfs(dir string, mb, uid, gid int) error {
	opts := fmt.Sprintf("size=%dm,mode=0700,uid=%d,gid=%d", mb, uid, gid)
	return syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_NOSUID|syscall.MS_NODEV, opts)
}

// unmount retries while the mount is busy (processes just killed may still
// hold files open), then detaches it lazily.
func unmount(dir string) error {
	var err error
	for range 20 {
		if err = syscall.Unmount(dir, 0); err == nil || !errors.Is(err, syscall.EBUSY) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
	}
	return syscall.Unmount(dir, syscall.MNT_DETACH)
}

func isMounted(dir string) bool {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) > 4 && unescapeMount(f[4]) == dir {
			return true
		}
	}
	return false
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// procID names a process across pid reuse: its pid and start time.
type procID struct {
	pid   int
	start uint64
}

type procInfo struct {
	procID
	ppid  int
	state byte
}

// readStat parses /proc/PID/stat.
func readStat(pid int) (procInfo, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procInfo{}, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')') // the command name may hold spaces and parentheses
	if i < 0 || i+2 > len(s) {
		return procInfo{}, false
	}
	f := strings.Fields(s[i+2:])
	if len(f) < 20 {
		return procInfo{}, false
	}
	ppid, _ := strconv.Atoi(f[1])
	start, _ := strconv.ParseUint(f[19], 10, 64)
	return procInfo{procID: procID{pid: pid, start: start}, ppid: ppid, state: f[0][0]}, true
}

// alive reports whether the process still exists and is not a zombie.
func (p procID) alive() bool {
	st, ok := readStat(p.pid)
	return ok && st.start == p.start && st.state != 'Z' && st.state != 'X'
}

// descendants lists the live descendants of root, found through /proc.
func descendants(root int) []procInfo {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	children := map[int][]procInfo{}
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ok := readStat(pid); ok && st.state != 'Z' && st.state != 'X' {
			children[st.ppid] = append(children[st.ppid], st)
		}
	}
	var out []procInfo
	queue := []int{root}
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		for _, ch := range children[pid] {
			out = append(out, ch)
			queue = append(queue, ch.pid)
		}
	}
	return out
}

// freezeTree SIGSTOPs root, waits until it is stopped (so it forks no more),
// then does the same to its descendants until no new one shows up. It
// returns every process it stopped, even on error.
func freezeTree(root int) ([]procID, error) {
	st, ok := readStat(root)
	if !ok {
		return nil, fmt.Errorf("no process %d", root)
	}
	var frozen []procID
	seen := map[int]bool{}
	todo := []procID{st.procID}
	for round := 0; len(todo) > 0; round++ {
		if round > 100 {
			return frozen, errors.New("processes keep appearing")
		}
		for _, p := range todo {
			if err := syscall.Kill(p.pid, syscall.SIGSTOP); err != nil && !errors.Is(err, syscall.ESRCH) {
				return frozen, fmt.Errorf("SIGSTOP %d: %w", p.pid, err)
			}
			seen[p.pid] = true
			frozen = append(frozen, p)
		}
		for _, p := range todo {
			if err := waitStopped(p); err != nil {
				return frozen, err
			}
		}
		todo = todo[:0]
		for _, d := range descendants(root) {
			if !seen[d.pid] {
				todo = append(todo, d.procID)
			}
		}
	}
	return frozen, nil
}

// waitStopped waits until the kernel reports p stopped (or gone): kill(2)
// returns before the signal has taken effect.
func waitStopped(p procID) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, ok := readStat(p.pid)
		if !ok || st.start != p.start || st.state == 'Z' || st.state == 'X' ||
			st.state == 'T' || st.state == 't' {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("process %d did not stop (state %c)", p.pid, st.state)
		}
		time.Sleep(time.Millisecond)
	}
}

func pidNamespace() string {
	ns, _ := os.Readlink("/proc/self/ns/pid")
	return ns
}

// writeOwner records the test process in root/owner for reapStale.
func writeOwner(root string) error {
	self, ok := readStat(os.Getpid())
	if !ok {
		return errors.New("cannot read /proc/self/stat")
	}
	content := fmt.Sprintf("%d %d %s\n", self.pid, self.start, pidNamespace())
	return os.WriteFile(filepath.Join(root, "owner"), []byte(content), 0o644)
}

// reapStale removes the clusters of test processes that died without running
// their cleanups (a go test -timeout panic, a SIGKILL): it kills their
// frozen processes and postmaster, unmounts their tmpfs, removes the folder.
// Folders of live processes, or of another pid namespace, are left alone.
func reapStale(tb testing.TB) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "pgtest-*"))
	for _, d := range dirs {
		reaped, err := reapDir(d)
		if err != nil {
			tb.Logf("pgtest: reaping the leftover cluster %s: %v", d, err)
		} else if reaped {
			tb.Logf("pgtest: reaped the leftover cluster %s", d)
		}
	}
}

func reapDir(root string) (bool, error) {
	b, err := os.ReadFile(filepath.Join(root, "owner"))
	if err != nil {
		return false, nil // not ours, or still being set up
	}
	var owner procID
	var ns string
	if _, err := fmt.Sscan(string(b), &owner.pid, &owner.start, &ns); err != nil || ns != pidNamespace() || owner.alive() {
		return false, nil
	}
	if b, err := os.ReadFile(filepath.Join(root, "frozen")); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			var p procID
			if _, err := fmt.Sscan(line, &p.pid, &p.start); err == nil && p.alive() {
				_ = syscall.Kill(p.pid, syscall.SIGKILL)
			}
		}
	}
	if b, err := os.ReadFile(filepath.Join(root, "data", "postmaster.pid")); err == nil {
		pid, _ := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
		cmd, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
		if pid > 0 && strings.Contains(string(cmd), filepath.Join(root, "data")) {
			for _, d := range descendants(pid) {
				_ = syscall.Kill(d.pid, syscall.SIGKILL)
			}
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if disk := filepath.Join(root, "disk"); isMounted(disk) {
		if err := unmount(disk); err != nil {
			return false, fmt.Errorf("unmount %s: %w", disk, err)
		}
	}
	return true, os.RemoveAll(root)
}
