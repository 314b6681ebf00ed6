package proc

import "syscall"

// sysProcAttr makes a child lead its own process group (killed as a whole
// by killGroup) and die with the thread that started it (Pdeathsig), which
// Start keeps alive until the child is reaped.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup kills the process group led by pid.
func killGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }
