package worker_test

import (
	"os"
	"testing"

	"github.com/subsetd/subsetd/readers/open"
	"github.com/subsetd/subsetd/worker"
)

// The warm-up cuts its file through the C readers and leaves nothing.
func TestWarm(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	if err := worker.Warm(worker.Env{Open: open.Source, Create: open.Sink, Version: "test"}); err != nil {
		t.Fatal(err)
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
}
