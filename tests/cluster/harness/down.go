package harness

import (
	"bufio"
	"crypto/x509"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type pidEntry struct {
	name string
	pid  int
}

func readPids(dir string) []pidEntry {
	f, err := os.Open(filepath.Join(dir, "pids"))
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []pidEntry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 2 {
			continue
		}
		if pid, err := strconv.Atoi(fs[1]); err == nil && pid > 1 {
			out = append(out, pidEntry{fs[0], pid})
		}
	}
	return out
}

// ours reports whether pid is alive and is one of our binaries (guards against PID reuse).
func ours(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		// state is the field after the ")" of the command name; Z = zombie
		if i := strings.LastIndexByte(string(st), ')'); i > 0 && len(st) > i+2 && st[i+2] == 'Z' {
			return false
		}
	}
	return strings.Contains(strings.SplitN(string(b), "\x00", 2)[0], "kstage-testcluster")
}

func running(dir string) bool {
	ps := readPids(dir)
	if len(ps) == 0 {
		return false
	}
	for _, p := range ps {
		if !ours(p.pid) {
			return false
		}
	}
	return true
}

// stopAll sends SIGTERM to every recorded process (last started first), waits, then SIGKILLs.
func stopAll(dir string) []string {
	ps := readPids(dir)
	var stopped []string
	for i := len(ps) - 1; i >= 0; i-- {
		p := ps[i]
		if !ours(p.pid) {
			continue
		}
		syscall.Kill(p.pid, syscall.SIGTERM)
		deadline := time.Now().Add(15 * time.Second)
		for ours(p.pid) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if ours(p.pid) {
			syscall.Kill(p.pid, syscall.SIGKILL)
			for j := 0; j < 100 && ours(p.pid); j++ {
				time.Sleep(20 * time.Millisecond)
			}
		}
		stopped = append(stopped, fmt.Sprintf("%s(%d)", p.name, p.pid))
	}
	os.Remove(filepath.Join(dir, "pids"))
	os.Remove(filepath.Join(dir, "env"))
	return stopped
}

// Down stops everything up started.
func Down(args []string) error {
	fs := flag.NewFlagSet("down", flag.ContinueOnError)
	dir := fs.String("dir", "build/test-cluster", "state directory")
	if err := fs.Parse(args); err != nil {
		return err
	}
	abs, _ := filepath.Abs(*dir)
	stopped := stopAll(abs)
	if len(stopped) == 0 {
		fmt.Println("test cluster: nothing running")
	} else {
		fmt.Println("test cluster stopped:", strings.Join(stopped, " "))
	}
	return nil
}

func poolFromPEM(pem []byte) *x509.CertPool {
	p := x509.NewCertPool()
	p.AppendCertsFromPEM(pem)
	return p
}
