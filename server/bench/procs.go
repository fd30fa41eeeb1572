package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	childproc "coffer/server/internal/child"
)

// child is a process the benchmark started (the coffer server or the plain handler); it dies
// with the benchmark, so a killed `make bench` leaves no server behind.
type child = childproc.Process

// startCoffer runs the built server binary on 127.0.0.1:0 over databaseURL and waits for its
// "serving" log line, which names the bound address. Its log goes to logPath.
func startCoffer(bin, databaseURL, logPath string, env ...string) (*child, error) {
	return childproc.Coffer(bin, logPath, append([]string{
		"ADDR=127.0.0.1:0", "DATABASE_URL=" + databaseURL, "ADMIN_PASSWORD=" + adminPassword, "DEV=1",
		// The benchmark logs in hundreds of customers from one address.
		"AUTH_RATE_LIMIT=0", "AUTH_ACCOUNT_RATE_LIMIT=0",
		// Every sender is minted enough coins for the whole run.
		"CREATION_MONTHLY_LIMIT=1000000000",
		"OUTBOX_FILE=" + filepath.Join(filepath.Dir(logPath), "outbox.jsonl"),
	}, env...)...)
}

// startPlain runs this program again as the plain net/http + lib/pq handler (see plain.go), a
// process of its own like the coffer server.
func startPlain(databaseURL, logPath string) (*child, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "-serve-plain", databaseURL)
	return childproc.Start(cmd, logPath, func(line string) (string, bool) {
		addr, ok := strings.CutPrefix(line, "plain handler serving on ")
		return addr, ok
	})
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
