package proc

import (
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// A child dies with the process that started it, even one killed with
// SIGKILL, which cannot clean up (Pdeathsig).
func TestChildDiesWithItsParent(t *testing.T) {
	t.Parallel()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	parent := exec.Command(os.Args[0], "-test.run=^$")
	parent.Env = append(os.Environ(), childEnv+"=parent")
	parent.Stdout = w
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	child := readPID(t, r)
	t.Cleanup(func() { syscall.Kill(child, syscall.SIGKILL) })
	if gone(child) {
		t.Fatal("the child is not running")
	}
	parent.Process.Kill() // SIGKILL, the parent alone
	parent.Wait()
	waitGone(t, child, "the child of a killed parent")
}
