//go:build !linux

package pool

import "syscall"

// Without Pdeathsig, workers outlive a server killed with SIGKILL on these
// systems; they finish their one task and exit.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

func killGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }
