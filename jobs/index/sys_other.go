//go:build !linux

package index

import "syscall"

// Without Pdeathsig, inspectors outlive a scanner killed with SIGKILL on
// these systems; they exit at the end of their input.
func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

func killGroup(pid int) { _ = syscall.Kill(-pid, syscall.SIGKILL) }
