//go:build !linux

package pool

import "syscall"

// Without Pdeathsig, workers outlive a server killed with SIGKILL on these
// systems; they finish their one task and exit.
// SysProcAttr makes a child lead its own process group (killed as a whole
// by KillGroup) and, on Linux, die with the process that started it.
func SysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// KillGroup kills the process group led by pid.
func KillGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }
