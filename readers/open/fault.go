package open

/*
static void subsetd_test_segv(void) { *(volatile int *)0 = 0; }
*/
import "C"

import (
	"os"
	"strings"
	"time"
)

// TestFaultEnv names an environment variable read only by tests:
// "hang:SUBSTRING" makes the opening of a file whose path holds SUBSTRING
// never return, "segv:SUBSTRING" makes it fault in C code (a null pointer
// written), as a C library does on some damaged files, so that tests can
// watch what the processes around the readers do about it. Entries are
// comma-separated; "worker/hang:..." applies only in `subsetd worker`
// processes (the first argument). Unset (the normal case) it does nothing.
const TestFaultEnv = "SUBSETD_TEST_C_FAULT"

var testFault = os.Getenv(TestFaultEnv)

// injectFault is called inside the opening of every file.
func injectFault(path string) {
	if testFault == "" {
		return
	}
	for _, f := range strings.Split(testFault, ",") {
		if role, rest, ok := strings.Cut(f, "/"); ok && !strings.Contains(role, ":") {
			if len(os.Args) < 2 || os.Args[1] != role {
				continue
			}
			f = rest
		}
		kind, sub, ok := strings.Cut(f, ":")
		if !ok || sub == "" || !strings.Contains(path, sub) {
			continue
		}
		switch kind {
		case "hang":
			for {
				time.Sleep(time.Hour)
			}
		case "segv":
			C.subsetd_test_segv()
		}
	}
}
