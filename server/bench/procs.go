package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// child is a process the benchmark started (the coffer server or the plain handler), reached at
// addr. It dies with the benchmark (parent-death signal), so a killed `make bench` leaves no
// server behind.
type child struct {
	cmd  *exec.Cmd
	addr string
	done chan struct{}
}

// startCoffer runs the built server binary on 127.0.0.1:0 over databaseURL and waits for its
// "serving" log line, which names the bound address. Its log goes to logPath.
func startCoffer(bin, databaseURL, logPath string, env ...string) (*child, error) {
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		"ADDR=127.0.0.1:0", "DATABASE_URL="+databaseURL, "ADMIN_PASSWORD="+adminPassword, "DEV=1",
		// The benchmark logs in hundreds of customers from one address.
		"AUTH_RATE_LIMIT=0", "AUTH_ACCOUNT_RATE_LIMIT=0",
		// Every sender is minted enough coins for the whole run.
		"CREATION_MONTHLY_LIMIT=1000000000",
		"OUTBOX_FILE="+filepath.Join(filepath.Dir(logPath), "outbox.jsonl"),
	)
	cmd.Env = append(cmd.Env, env...)
	return startChild(cmd, logPath, func(line string) (string, bool) {
		var l struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "serving" && l.Addr != "" {
			return l.Addr, true
		}
		return "", false
	})
}

// startPlain runs this program again as the plain net/http + lib/pq handler (see plain.go), a
// process of its own like the coffer server.
func startPlain(databaseURL, logPath string) (*child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "-serve-plain", databaseURL)
	return startChild(cmd, logPath, func(line string) (string, bool) {
		addr, ok := strings.CutPrefix(line, "plain handler serving on ")
		return addr, ok
	})
}

// startChild starts cmd, reads its stderr until ready recognises the line naming the address, and
// copies the rest of its output to logPath.
func startChild(cmd *exec.Cmd, logPath string, ready func(line string) (string, bool)) (*child, error) {
	logf, err := os.Create(logPath)
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
	c := &child{cmd: cmd, done: make(chan struct{})}
	addrc := make(chan string, 1)
	go func() {
		defer logf.Close()
		// Lines are read until the ready line, then the rest is copied in bulk: the server logs
		// every request, and relaying it line by line cost the load generator, which shares the
		// cores with the server, a read and a write per request.
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
	go func() { cmd.Wait(); close(c.done) }()
	select {
	case c.addr = <-addrc:
		return c, nil
	case <-c.done:
		return nil, fmt.Errorf("%s exited during start-up; log %s", cmd.Path, logPath)
	case <-time.After(60 * time.Second):
		c.stop()
		return nil, fmt.Errorf("%s did not start within 60s; log %s", cmd.Path, logPath)
	}
}

func (c *child) pid() int { return c.cmd.Process.Pid }

// stop asks the process to shut down and kills it if it has not within ten seconds.
func (c *child) stop() {
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		<-c.done
	}
}

// peakRSSMiB is VmHWM of pid: the most resident memory the process has had (kernel-tracked, so no
// sampling can miss a peak).
func peakRSSMiB(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			if err != nil {
				return 0, fmt.Errorf("VmHWM: %q", v)
			}
			return kb / 1024, nil
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

// resetPeakRSS starts VmHWM afresh from the current resident size (Linux 4.0 and later: writing 5
// to /proc/<pid>/clear_refs), so that the peak of the load phase can be told from the seeding's.
func resetPeakRSS(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// cpuTicks is the CPU time (user + system, in clock ticks) of the given processes and, when
// withChildren, of their direct children: postgres runs one backend process per connection under
// the postmaster.
func cpuTicks(pids []int, withChildren bool) int64 {
	want := map[int]bool{}
	for _, p := range pids {
		want[p] = true
	}
	var total int64
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		ppid, ticks, ok := procStat(pid)
		if ok && (want[pid] || withChildren && want[ppid]) {
			total += ticks
		}
	}
	return total
}

// procStat reads the parent pid and utime+stime of pid from /proc/<pid>/stat.
func procStat(pid int) (ppid int, ticks int64, ok bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, false
	}
	// Fields after the command: state(3) ppid(4) ... utime(14) stime(15).
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return 0, 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return ppid, ut + st, true
}

// clockTicks is USER_HZ, 100 on every Linux this runs on.
const clockTicks = 100
