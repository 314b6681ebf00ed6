package pool

import "syscall"

// SysProcAttr makes a child lead its own process group (killed as a whole
// by KillGroup) and, on Linux, die with the process that started it.
func SysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// KillGroup kills the process group led by pid.
func KillGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }
