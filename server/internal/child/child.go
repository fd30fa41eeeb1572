// Package child runs a process that serves on an address it logs at start-up: the built coffer
// server (for make bench and make simulate) or any helper that names its address on stderr. The
// process dies with its parent (parent-death signal), so a killed run leaves nothing behind.
package child

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Process is a started child, reached at Addr.
type Process struct {
	Addr string
	cmd  *exec.Cmd
	done chan struct{}
}

// Start starts cmd, reads its stderr until ready recognises the line naming the address, and
// copies all of its output to logPath (appending, so that a restarted server keeps one log).
func Start(cmd *exec.Cmd, logPath string, ready func(line string) (string, bool)) (*Process, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd.Stdout = logf
	stderr, err := cmd.StderrPipe()
	if err != nil {
		logf.Close()
		return nil, err
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	p := &Process{cmd: cmd, done: make(chan struct{})}
	addrc := make(chan string, 1)
	go func() {
		defer logf.Close()
		// Lines are read until the ready line, then the rest is copied in bulk: the server logs
		// every request, and relaying it line by line costs a read and a write per request on
		// cores that the server under test shares.
		br := bufio.NewReaderSize(stderr, 64*1024)
		for {
			line, err := br.ReadString('\n')
			logf.WriteString(line)
			if addr, ok := ready(strings.TrimRight(line, "\r\n")); ok {
				addrc <- addr
				break
			}
			if err != nil {
				return
			}
		}
		br.WriteTo(logf)
	}()
	go func() { cmd.Wait(); close(p.done) }()
	select {
	case p.Addr = <-addrc:
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("%s exited during start-up; log %s", cmd.Path, logPath)
	case <-time.After(60 * time.Second):
		p.Stop()
		return nil, fmt.Errorf("%s did not start within 60s; log %s", cmd.Path, logPath)
	}
}

// Coffer runs the built server binary bin with env added to this process' environment (ADDR,
// DATABASE_URL, ...) and waits for its "serving" log line, which names the bound address.
func Coffer(bin, logPath string, env ...string) (*Process, error) {
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), env...)
	return Start(cmd, logPath, func(line string) (string, bool) {
		var l struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "serving" && l.Addr != "" {
			return l.Addr, true
		}
		return "", false
	})
}

// PID is the process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Stop asks the process to shut down and kills it if it has not within ten seconds.
func (p *Process) Stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
}

// Kill ends the process with SIGKILL (nothing is flushed, no deferred code runs) and waits.
func (p *Process) Kill() {
	p.cmd.Process.Kill()
	<-p.done
}
