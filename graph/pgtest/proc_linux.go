package pgtest

import "syscall"

// sysProcAttr runs postgres as cred (nil: as this process' user) and makes it shut down (immediate mode) when
// this process dies. Go applies Pdeathsig after switching credentials, so the setting survives the switch.
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT}
}
