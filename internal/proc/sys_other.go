//go:build !linux

package proc

import "syscall"

// Without Pdeathsig, children outlive a server killed with SIGKILL on these
// systems; workers finish their one task and exit, inspectors exit at the
// end of their input.

// sysProcAttr makes a child lead its own process group (killed as a whole
// by killGroup).
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// killGroup kills the process group led by pid.
func killGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }
