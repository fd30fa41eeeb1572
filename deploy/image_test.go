package deploy

import (
	"bufio"
	"bytes"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestImageContext_staticBinaryAndEverythingTheDockerfileCopies runs `make image-context`, the
// command the Dockerfile's comment documents, and checks what a FROM scratch image needs: a binary
// with no ELF interpreter and no shared libraries, that runs; the CA certificates; every file the
// Dockerfile copies; and no base image but scratch.
func TestImageContext_staticBinaryAndEverythingTheDockerfileCopies(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("make", "-s", "image-context", "IMAGE_CONTEXT="+dir)
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make image-context: %v\n%s", err, out)
	}
	bin := filepath.Join(dir, "coffer")
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("the binary has a %v program header: it is not static", p.Type)
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) != 0 {
		t.Errorf("the binary needs shared libraries %v (%v)", libs, err)
	}
	if out, err := exec.Command(bin, "--help").CombinedOutput(); err != nil || !bytes.Contains(out, []byte("DATABASE_URL")) {
		t.Errorf("%s --help: %v\n%s", bin, err, out)
	}
	host, err := os.ReadFile("/etc/ssl/certs/ca-certificates.crt")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(dir, "ca-certificates.crt")); err != nil || !bytes.Equal(got, host) {
		t.Errorf("ca-certificates.crt is not the host's (%v)", err)
	}
	dockerfile, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	var copies int
	sc := bufio.NewScanner(bytes.NewReader(dockerfile))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) == 0 || strings.HasPrefix(fields[0], "#"):
		case strings.EqualFold(fields[0], "FROM") && (len(fields) < 2 || fields[1] != "scratch"):
			t.Errorf("Dockerfile: %q pulls a base image", sc.Text())
		case strings.EqualFold(fields[0], "COPY"):
			copies++
			for _, src := range fields[1 : len(fields)-1] {
				if _, err := os.Stat(filepath.Join(dir, src)); err != nil {
					t.Errorf("Dockerfile copies %s, which the context lacks: %v", src, err)
				}
			}
		}
	}
	if copies < 2 {
		t.Errorf("Dockerfile copies %d files, want the binary and the certificates", copies)
	}
}
