//go:build unix && !linux

package pgtest

import "syscall"

// sysProcAttr runs postgres as cred (nil: as this process' user). No parent-death signal outside Linux: a
// killed test process leaves its cluster running.
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred}
}
