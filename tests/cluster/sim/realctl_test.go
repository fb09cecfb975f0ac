package sim

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/fake"
)

// A pod's ConfigMap and Secret volumes are written where the container
// mounts them; a missing Secret leaves the pod waiting, as a kubelet does.
func TestMountVolumes(t *testing.T) {
	ctx := context.Background()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cfg", Namespace: "ns"}, Data: map[string]string{"a.yaml": "x: 1\n"}}
	kc := fake.NewClientset(cm)
	s := New(kc, nil, "n", "127.0.0.1:1")
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"}, Spec: corev1.PodSpec{
		Volumes: []corev1.Volume{
			{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: "cfg"}}}},
			{Name: "certs", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "tls"}}},
			{Name: "unused", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "absent"}}},
		},
		Containers: []corev1.Container{{Name: "c", VolumeMounts: []corev1.VolumeMount{{Name: "config", MountPath: "/config"}, {Name: "certs", MountPath: "/certs"}}}},
	}}
	dir := t.TempDir()
	if _, err := mountVolumes(ctx, s, p, &p.Spec.Containers[0], dir); !errors.Is(err, errVolumeMissing) {
		t.Fatalf("missing secret: got %v, want errVolumeMissing", err)
	}
	if _, err := kc.CoreV1().Secrets("ns").Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "tls", Namespace: "ns"},
		Data: map[string][]byte{"tls.crt": []byte("CRT")}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	got, err := mountVolumes(ctx, s, p, &p.Spec.Containers[0], dir)
	if err != nil {
		t.Fatal(err)
	}
	want := [][2]string{{filepath.Join(dir, "config"), "/config"}, {filepath.Join(dir, "certs"), "/certs"}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("mounts %v, want %v", got, want)
	}
	for f, data := range map[string]string{"config/a.yaml": "x: 1\n", "certs/tls.crt": "CRT"} {
		if b, err := os.ReadFile(filepath.Join(dir, f)); err != nil || string(b) != data {
			t.Errorf("%s: %q %v", f, b, err)
		}
	}
}

// forward joins each connection on a Unix socket to a new TCP one, both ways.
func TestForward(t *testing.T) {
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	sock := filepath.Join(t.TempDir(), "s.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go forward(l, "tcp", echo.Addr().String())
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo: %q %v", buf, err)
	}
}
