package sim

// The network bridge of a real controller run in its own network namespace
// (RealController.Bridge): the namespace has only its loopback, so the API
// server's port is forwarded in and the readiness probe's port out, both over
// Unix sockets, which a network namespace does not separate.

import (
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	corev1 "k8s.io/api/core/v1"
)

// hostBridge is the sim's side: a Unix socket joined to the API server.
type hostBridge struct {
	dir       string
	apiAddr   string // host:port of the API server, the same inside the namespace
	apiSock   string
	probeSock string
	l         net.Listener
}

// openBridge listens on the API socket of pod p. The directory is short and
// under the temporary directory: a Unix socket path has at most 107 bytes.
func (rc *RealController) openBridge(p *corev1.Pod) (*hostBridge, error) {
	u, err := url.Parse(rc.APIURL)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(rc.Dir + "/" + string(p.UID)))
	dir := filepath.Join(os.TempDir(), "kstage-netns-"+hex.EncodeToString(sum[:6]))
	if err := os.RemoveAll(dir); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	b := &hostBridge{dir: dir, apiAddr: u.Host, apiSock: filepath.Join(dir, "api.sock"), probeSock: filepath.Join(dir, "probe.sock")}
	if b.l, err = net.Listen("unix", b.apiSock); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	go forward(b.l, "tcp", b.apiAddr)
	return b, nil
}

func (b *hostBridge) close() {
	if b == nil {
		return
	}
	b.l.Close()
	os.RemoveAll(b.dir)
}

// forward accepts on l until it is closed and joins each connection to a new one to network/addr.
func forward(l net.Listener, network, addr string) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			d, err := net.Dial(network, addr)
			if err != nil {
				c.Close()
				return
			}
			var once sync.Once
			done := func() { once.Do(func() { c.Close(); d.Close() }) }
			go func() { _, _ = io.Copy(d, c); done() }()
			_, _ = io.Copy(c, d)
			done()
		}()
	}
}

// NetnsBridge is `kstage-testcluster netns-bridge --in HOST:PORT=SOCK --out SOCK=HOST:PORT`,
// run inside the namespace: --in listens on HOST:PORT and forwards to the Unix
// socket SOCK, --out the other way. It ends with its parent (the controller).
func NetnsBridge(args []string) error {
	fs := flag.NewFlagSet("netns-bridge", flag.ContinueOnError)
	in := fs.String("in", "", "HOST:PORT=SOCK: TCP in the namespace to the Unix socket")
	out := fs.String("out", "", "SOCK=HOST:PORT: the Unix socket to TCP in the namespace")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, syscall.PR_SET_PDEATHSIG, uintptr(syscall.SIGKILL), 0); errno != 0 {
		return errno
	}
	tcp, sock, ok := strings.Cut(*in, "=")
	usock, utcp, ok2 := strings.Cut(*out, "=")
	if !ok || !ok2 {
		return fmt.Errorf("usage: netns-bridge --in HOST:PORT=SOCK --out SOCK=HOST:PORT")
	}
	li, err := net.Listen("tcp", tcp)
	if err != nil {
		return err
	}
	os.Remove(usock)
	lo, err := net.Listen("unix", usock)
	if err != nil {
		return err
	}
	go forward(lo, "tcp", utcp)
	forward(li, "unix", sock)
	return nil
}
