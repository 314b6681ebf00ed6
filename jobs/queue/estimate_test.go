package queue

import (
	"math"
	"testing"
	"time"
)

// The throughput model: defaults before any task, a least-squares line
// through the tasks' durations after, one sample giving the default
// overhead and the speed that makes up the rest.
func TestSpeedModel(t *testing.T) {
	var m speed
	if d := m.model(); d.BytesPerSecond != defaultSpeed || d.Overhead != defaultOverhead || d.Samples != 0 {
		t.Fatalf("defaults %+v", d)
	}
	m.observe(1e6, 300*time.Millisecond)
	if d := m.model(); d.Samples != 1 || math.Abs(d.TaskSeconds(1e6)-0.3) > 1e-9 {
		t.Fatalf("one sample %+v: %v s", d, d.TaskSeconds(1e6))
	}
	m.observe(3e6, 700*time.Millisecond)
	m.observe(0, time.Second) // nothing written: not a sample
	d := m.model()
	if d.Samples != 2 || math.Abs(d.BytesPerSecond-5e6) > 1 || math.Abs(d.Overhead-0.1) > 1e-9 {
		t.Fatalf("fit %+v", d)
	}
	for range 100 {
		m.observe(2e6, 500*time.Millisecond)
	}
	if d := m.model(); d.Samples != speedSamples {
		t.Fatalf("%d samples kept", d.Samples)
	}
}
